/** @module The WebAssembly TS packet walk (ts-packet-walk.wat): one instance per thread over the kernels' memory, and its calls. */
import {
  instantiateKernel,
  KERNEL_LAYOUT,
  KERNEL_WINDOW_BYTES,
  kernelAddress,
  PID_COUNT,
  VIDEO_BLOCK_BYTES,
} from "../kernel-memory.ts";
import { TS_PACKET_WALK_WASM_BASE64 } from "./ts-packet-walk-wasm.ts";
import { VideoBlock } from "./video-block.ts";

/** The walk's kind of a PID (ts-packet-walk.wat): what it does with the PID's packets. */
export const KIND_OTHER = 0;
export const KIND_VIDEO = 1;
export const KIND_CALLER = 2;
/** KIND_TABLE_SLOT + k: a PAT/PMT PID whose repeats of the packet in table slot k the walk takes. */
export const KIND_TABLE_SLOT = 3;

/** Bytes of packets walked per call: bounds the run records and, for chunks not in the memory, the copy. */
export const TS_WALK_WINDOW_BYTES = KERNEL_WINDOW_BYTES;

interface WalkExports {
  es: WebAssembly.Global;
  esEnd: WebAssembly.Global;
  runs: WebAssembly.Global;
  walk(p: number, end: number, stride: number, sync: number, state: number): number;
}

const { tsCopyArea: COPY_AREA, videoBlock: BLOCK, tsRuns: RUNS, tsRunsBytes: RUNS_BYTES } = KERNEL_LAYOUT;
const { pidState: PID_STATE, pidStateBytes: PID_STATE_BYTES } = KERNEL_LAYOUT;

/**
 * Walks Transport Stream packets with the WebAssembly kernel. One per thread and not re-entrant: a demuxer
 * takes it (`busy`) for a whole push, loads its PID state into `pidState`, and gives it back; a demuxer that
 * finds it busy demuxes in JavaScript.
 */
export class TsPacketKernel {
  busy = false;
  /** The video block the walk writes ES bytes into (in the kernels' memory). */
  readonly block: VideoBlock;
  /**
   * The walking demuxer's PID state: int8 continuity_counter per PID (-1 before its first packet), the uint8
   * kind per PID (KIND_*), then TABLE_SLOTS packets of TABLE_SLOT_BYTES.
   */
  readonly pidState: Uint8Array;
  /** Where walk() leaves its run records: four i32 each (first packet's address, payload start in it, length, count). */
  readonly #runs: Int32Array;
  readonly #exports: WalkExports;
  readonly #bytes: Uint8Array;

  constructor(exports: WalkExports, memory: WebAssembly.Memory) {
    this.#exports = exports;
    this.#bytes = new Uint8Array(memory.buffer);
    this.block = new VideoBlock(this.#bytes.subarray(BLOCK, BLOCK + VIDEO_BLOCK_BYTES));
    this.pidState = this.#bytes.subarray(PID_STATE, PID_STATE + PID_STATE_BYTES);
    this.#runs = new Int32Array(memory.buffer, RUNS, RUNS_BYTES / 4);
  }

  /**
   * Walks the whole packets of `chunk[start, end)` (`end - start` a multiple of `stride`, at most
   * TS_WALK_WINDOW_BYTES) until one needs the caller, appending video payloads to `block` with the runs of
   * packets that carried them (in file offsets: the chunk begins at file offset `base`). Returns the chunk
   * index of the first packet not walked.
   */
  walk(chunk: Uint8Array, start: number, end: number, stride: number, sync: number, base: number): number {
    const p = kernelAddress(this.#bytes, chunk, start, end, COPY_AREA);
    const x = this.#exports;
    x.es.value = BLOCK + this.block.length;
    x.esEnd.value = BLOCK + VIDEO_BLOCK_BYTES;
    x.runs.value = RUNS;
    const stop = x.walk(p, p + (end - start), stride, sync, PID_STATE);
    // A record's address minus `delta` is its chunk index.
    const delta = p - start;
    const runs = this.#runs;
    for (let r = 0; r < (x.runs.value - RUNS) / 4; r += 4) {
      const unit = base + (runs[r] as number) - delta;
      this.block.addRun(unit + (runs[r + 1] as number), unit, runs[r + 2] as number, runs[r + 3] as number);
    }
    return stop - delta;
  }
}

let instance: TsPacketKernel | null | undefined;

/** This thread's TS walk, instantiated on first use; null where the runtime lacks WebAssembly with 128-bit SIMD. */
export function tsPacketKernel(): TsPacketKernel | null {
  if (instance === undefined) {
    const k = instantiateKernel<WalkExports>(TS_PACKET_WALK_WASM_BASE64);
    instance = k && new TsPacketKernel(k.exports, k.memory);
  }
  return instance;
}

/** The PID state a demuxer starts with: no counter seen on any PID, every PID KIND_OTHER, no table slot used. */
export function initialPidState(): Uint8Array {
  const state = new Uint8Array(PID_STATE_BYTES);
  state.fill(0xff, 0, PID_COUNT);
  return state;
}
