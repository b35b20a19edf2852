/** @module The WebAssembly start-code search (start-code-scan.wat): one instance per thread over the kernels' memory, and its calls. */
import { instantiateKernel, KERNEL_LAYOUT, kernelAddress } from "../kernel-memory.ts";
import { START_CODE_SCAN_WASM_BASE64 } from "./start-code-scan-wasm.ts";

const { copyArea: COPY_AREA, results: RESULTS, resultsBytes: RESULTS_BYTES } = KERNEL_LAYOUT;
const { records: RECORDS, recordsBytes: RECORDS_BYTES } = KERNEL_LAYOUT;

interface KernelExports {
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

  constructor(exports: KernelExports, memory: WebAssembly.Memory) {
    this.#exports = exports;
    this.#bytes = new Uint8Array(memory.buffer);
    this.results = new Int32Array(memory.buffer, RESULTS, RESULTS_BYTES / 4);
    this.records = new Int32Array(memory.buffer, RECORDS, RECORDS_BYTES / 4);
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
    const p = kernelAddress(this.#bytes, chunk, start, end, COPY_AREA);
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
  if (instance === undefined) {
    const k = instantiateKernel<KernelExports>(START_CODE_SCAN_WASM_BASE64);
    instance = k && new StartCodeKernel(k.exports, k.memory);
  }
  return instance;
}
