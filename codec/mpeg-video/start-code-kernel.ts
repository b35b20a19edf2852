/** @module The WebAssembly start-code search (start-code-scan.wat): one instance per thread, its memory layout and calls. */
import { START_CODE_SCAN_WASM_BASE64 } from "./start-code-scan-wasm.ts";

/** WebAssembly page size (WebAssembly Core Specification 2.0, 2.5.4 "Memories"). */
const WASM_PAGE_BYTES = 65536;

/**
 * Positions searched per kernel call. Bounds the result area (a window yields at most WINDOW / 3 + 1 start
 * codes) and, for copied chunks, the copy area; 256 KiB windows stay in a core's L2 cache between the copy
 * and the search.
 */
export const KERNEL_WINDOW_BYTES = 256 * 1024;

/**
 * Bytes of the read area: a buffer in the kernel's own memory that a reader can fill (kernelReadBuffer()), so
 * chunks read into it are searched where they lie instead of being copied in.
 */
export const KERNEL_READ_AREA_BYTES = 1024 * 1024;

/** A prefix's code byte is 3 bytes after its first zero: the lookahead a window needs past its last position. */
const LOOKAHEAD = 3;

// Layout of the kernel's memory: [read area][copy area][results][head records]. Fixed at instantiation and
// never grown, so views handed out (kernelReadBuffer()) stay valid for the life of the thread.
const READ_AREA = 0;
const COPY_AREA = READ_AREA + KERNEL_READ_AREA_BYTES;
const COPY_AREA_BYTES = KERNEL_WINDOW_BYTES + LOOKAHEAD;
const RESULTS = COPY_AREA + ((COPY_AREA_BYTES + 15) & ~15);
const RESULTS_BYTES = 4 * (Math.floor(KERNEL_WINDOW_BYTES / 3) + 2);
/** heads() writes two i32 per record and at most one record per result. */
const RECORDS = RESULTS + RESULTS_BYTES;
const RECORDS_BYTES = 2 * RESULTS_BYTES;
const MEMORY_BYTES = RECORDS + RECORDS_BYTES;

interface KernelExports {
  memory: WebAssembly.Memory;
  inSliceRun: WebAssembly.Global;
  scan(p: number, end: number, out: number, collapse: number): number;
  heads(results: number, resultsEnd: number, out: number): number;
}

/**
 * Searches chunks for start codes with the WebAssembly kernel. Not re-entrant: `busy` is true from a scan()
 * until the caller calls release(), and a caller that finds it busy (a start-code handler that pushes to
 * another scanner) searches in JavaScript instead.
 */
export class StartCodeKernel {
  busy = false;
  /**
   * After scan(): `results[0 .. count)` minus `delta` are the chunk indexes of the reported prefixes (their
   * first zero byte), in order. Valid until the next scan().
   */
  readonly results: Int32Array;
  /**
   * After scan() with `heads`: `records[2k]` minus `delta` is the chunk index of a reported prefix and
   * `records[2k + 1]` is -1 for a plain start code, or the record of a picture head (PictureHead) that
   * stands for its start codes up to and including its first slice's.
   */
  readonly records: Int32Array;
  delta = 0;
  readonly #exports: KernelExports;
  readonly #bytes: Uint8Array;
  readonly #buffer: ArrayBuffer;

  constructor(exports: KernelExports) {
    this.#exports = exports;
    const pages = Math.ceil(MEMORY_BYTES / WASM_PAGE_BYTES);
    const have = exports.memory.buffer.byteLength / WASM_PAGE_BYTES;
    if (pages > have) exports.memory.grow(pages - have);
    this.#buffer = exports.memory.buffer as ArrayBuffer;
    this.#bytes = new Uint8Array(this.#buffer);
    this.results = new Int32Array(this.#buffer, RESULTS, RESULTS_BYTES / 4);
    this.records = new Int32Array(this.#buffer, RECORDS, RECORDS_BYTES / 4);
  }

  /** The kernel's read area (KERNEL_READ_AREA_BYTES): chunks that are views of it are searched in place. */
  get readArea(): Uint8Array {
    return this.#bytes.subarray(READ_AREA, READ_AREA + KERNEL_READ_AREA_BYTES);
  }

  /**
   * Searches the prefixes that begin at chunk indexes [start, end - 3), reading no byte at or past `end`;
   * `end - start` must not exceed KERNEL_WINDOW_BYTES + 3. `inSliceRun` is the collapsing state before the
   * window; returns the number of results and leaves the state after the window in `inSliceRunAfter`.
   * With `heads` (and `collapse`), the results are `records`, and their number is returned instead.
   * Sets `busy`: the caller calls release() when done with `results`.
   */
  scan(
    chunk: Uint8Array,
    start: number,
    end: number,
    collapse: boolean,
    inSliceRun: boolean,
    heads = false,
  ): number {
    this.busy = true;
    let p: number;
    if (chunk.buffer === this.#buffer) {
      p = chunk.byteOffset + start;
    } else {
      this.#bytes.set(chunk.subarray(start, end), COPY_AREA);
      p = COPY_AREA;
    }
    this.delta = p - start;
    const x = this.#exports;
    x.inSliceRun.value = inSliceRun ? 1 : 0;
    const out = x.scan(p, p + (end - start), RESULTS, collapse ? 1 : 0);
    if (heads) return (x.heads(RESULTS, out, RECORDS) - RECORDS) >> 3;
    return (out - RESULTS) >> 2;
  }

  /** The collapsing state after the last scan(). */
  get inSliceRunAfter(): boolean {
    return this.#exports.inSliceRun.value !== 0;
  }

  release(): void {
    this.busy = false;
  }
}

let instance: StartCodeKernel | null | undefined;

/**
 * This thread's kernel, instantiated on first use; null where WebAssembly with 128-bit SIMD is unavailable
 * (the scanner then searches in JavaScript, with the same results).
 */
export function startCodeKernel(): StartCodeKernel | null {
  if (instance !== undefined) return instance;
  try {
    const module = new WebAssembly.Module(Buffer.from(START_CODE_SCAN_WASM_BASE64, "base64"));
    const exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    instance = new StartCodeKernel(exports);
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * A buffer of up to KERNEL_READ_AREA_BYTES for reading a file into: chunks that are views of it reach the
 * start-code search without a copy. One per thread, shared by every caller, so only a reader that pushes each
 * chunk before reading the next may use it; null without the kernel (read into any buffer then).
 */
export function kernelReadBuffer(): Uint8Array | null {
  return startCodeKernel()?.readArea ?? null;
}
