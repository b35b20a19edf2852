/** @module Streaming start-code scanner for MPEG video elementary streams (ISO/IEC 13818-2 5.2.3, 6.2.1). */

import { KERNEL_WINDOW_BYTES } from "../kernel-memory.ts";
import type { PictureHeadHandler } from "./picture-head.ts";
import { type StartCodeKernel, startCodeKernel } from "./start-code-kernel.ts";
import { SLICE_START_CODE_LAST } from "./start-codes.ts";

/**
 * Called once per start code, in stream order. `offset` is the absolute stream offset of the prefix's first
 * zero byte (which may lie in an earlier chunk); `chunk[codeIndex]` is the code byte, so the header bytes
 * that follow begin at `chunk[codeIndex + 1]` and may continue in the next chunk.
 */
export type StartCodeHandler = (code: number, offset: number, chunk: Uint8Array, codeIndex: number) => void;

/** A byte that cannot be part of a prefix: seeds "the bytes before the stream" so offset 0 needs no branch. */
const NOT_ZERO = 0xff;
const SLICE_LAST = SLICE_START_CODE_LAST;

/**
 * The last two bytes of a start-code prefix. A two-byte needle is searched without the per-call setup a
 * three-byte one costs (the scan made ~375k calls for 270 MB and spent most of its time starting them):
 * 15 GB/s instead of 9.3 on the bench ES. Each hit's byte before is checked for the prefix's first zero.
 */
const ZERO_ONE = Buffer.from([0, 1]);

export interface StartCodeScannerOptions {
  /**
   * Report only the first slice start code of each run of consecutive slices. Slices (0x01-0xAF) are by far
   * the most frequent start codes and an indexer only needs to know where a run begins; skipping the rest
   * without a call keeps the per-hit cost down.
   */
  collapseSlices?: boolean;
  /**
   * Where the WebAssembly kernel (start-code-scan.wat) searches, if this runtime has it: "auto" (the default)
   * for chunks of KERNEL_MIN_BYTES and more, "always" for every chunk, "off" never. The results are the same
   * either way (the tests run every case both ways).
   */
  kernel?: "auto" | "always" | "off";
  /**
   * Where the kernel searches with collapseSlices, it may report a well-formed MPEG-2 picture head (picture
   * header, coding extension, user data, first slice) as one call here instead of its start codes, while
   * `pictureHeads.enabled()` says so. Elsewhere (JavaScript search, heads cut by a window's end, damaged or
   * unusual headers) the same start codes come one by one.
   */
  pictureHeads?: PictureHeadHandler;
}

/**
 * Chunk bytes from which the kernel searches: below this a JavaScript search costs less than the call and the
 * copy into the kernel's memory (a Transport Stream hands the indexer one packet's payload at a time).
 */
const KERNEL_MIN_BYTES = 2048;

/**
 * Finds every 00 00 01 xx in a stream fed in chunks of any size, including prefixes split across chunks.
 *
 * Speed: the scan asks the engine for the next 00 01 (`Buffer.prototype.indexOf`, native and tens of GB/s on
 * bytes without a hit) and checks the byte before it, so JavaScript runs about once per start code, not once
 * per byte. A prefix that
 * straddles two chunks can only have its 01 in the first two bytes of the later chunk, so two explicit
 * checks against the previous chunk's last two bytes cover every split position. Zero stuffing
 * (ISO/IEC 13818-2 5.2.3: any number of zero bytes before a start code) needs no special case: the prefix
 * is always the last two zeros before the 01, and earlier zeros stay with the bytes before it.
 */
export class StartCodeScanner {
  #bytesSeen = 0;
  /** The last two bytes of everything pushed so far (`#last1` is the very last). */
  #last1 = NOT_ZERO;
  #last2 = NOT_ZERO;
  /** Offset of a start code whose 00 00 01 ended the previous chunk, so its code byte opens the next one. */
  #pendingOffset = -1;
  readonly #collapseSlices: boolean;
  /** The last start code reported was a slice (only tracked when collapsing). */
  #inSliceRun = false;
  readonly #kernel: StartCodeKernel | null;
  readonly #kernelMinBytes: number;
  readonly #heads: PictureHeadHandler | null;

  constructor(
    readonly onStartCode: StartCodeHandler,
    options: StartCodeScannerOptions = {},
  ) {
    this.#collapseSlices = options.collapseSlices ?? false;
    const use = options.kernel ?? "auto";
    this.#kernel = use === "off" ? null : startCodeKernel();
    this.#kernelMinBytes = use === "always" ? 0 : KERNEL_MIN_BYTES;
    this.#heads = this.#collapseSlices ? (options.pictureHeads ?? null) : null;
  }

  /** Total bytes pushed. */
  get bytesSeen(): number {
    return this.#bytesSeen;
  }

  /**
   * Offset below which no start code remains to be reported: only a trailing 00, 00 00 or 00 00 01 can still
   * begin one. Every start code that begins earlier has been reported.
   */
  get scannedOffset(): number {
    if (this.#pendingOffset >= 0) return this.#pendingOffset;
    if (this.#last1 !== 0) return this.#bytesSeen;
    return this.#bytesSeen - (this.#last2 === 0 ? 2 : 1);
  }

  /** Offset of a complete 00 00 01 at the end of the input whose code byte has not arrived yet, else -1. */
  get partialStartCodeOffset(): number {
    return this.#pendingOffset;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    const base = this.#bytesSeen;
    const last1 = this.#last1;
    const last2 = this.#last2;
    this.#bytesSeen = base + n;
    if (n >= 2) {
      this.#last2 = chunk[n - 2] as number;
      this.#last1 = chunk[n - 1] as number;
    } else {
      this.#last2 = last1;
      this.#last1 = chunk[0] as number;
    }
    let from = 0;
    if (this.#pendingOffset >= 0) {
      const at = this.#pendingOffset;
      this.#pendingOffset = -1;
      this.#found(chunk[0] as number, at, chunk, 0);
    } else if (last1 === 0) {
      // Prefixes that straddle the boundary: 00 00 | 01 xx and 00 | 00 01 xx.
      let one = -1;
      if (last2 === 0 && chunk[0] === 1) one = 0;
      else if (n >= 2 && chunk[0] === 0 && chunk[1] === 1) one = 1;
      if (one >= 0) {
        if (one + 1 < n) {
          this.#found(chunk[one + 1] as number, base + one - 2, chunk, one + 1);
          from = one + 1; // the code byte may be the first zero of the next prefix
        } else {
          this.#pendingOffset = base + one - 2;
          return;
        }
      }
    }
    if (n - from < 3) return;
    const kernel = this.#kernel;
    if (kernel !== null && n - from >= this.#kernelMinBytes && !kernel.busy) {
      this.#searchWithKernel(kernel, chunk, from, base);
      return;
    }
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, n);
    const collapse = this.#collapseSlices;
    for (;;) {
      // A prefix 00 00 01 starting at j >= from has its 00 01 at j + 1.
      const k = buf.indexOf(ZERO_ONE, from + 1);
      if (k < 0) return;
      if (chunk[k - 1] !== 0) {
        from = k + 1; // k + 1 holds the 01: no prefix starts before k + 2
        continue;
      }
      const j = k - 1;
      const c = j + 3;
      if (c >= n) {
        this.#pendingOffset = base + j;
        return;
      }
      const code = chunk[c] as number;
      from = c; // the code byte may be the first zero of the next prefix
      if (collapse && code !== 0 && code <= SLICE_LAST) {
        if (this.#inSliceRun) continue;
        this.#inSliceRun = true;
        this.onStartCode(code, base + j, chunk, c);
      } else {
        this.#inSliceRun = false;
        this.onStartCode(code, base + j, chunk, c);
      }
    }
  }

  /**
   * The same search as push()'s loop from `from` on, window by window in the kernel: every prefix whose code
   * byte is in the chunk is reported, and a 00 00 01 ending the chunk becomes pending.
   */
  #searchWithKernel(kernel: StartCodeKernel, chunk: Uint8Array, from: number, base: number): void {
    const n = chunk.length;
    const collapse = this.#collapseSlices;
    const lastStart = n - 3; // first position whose code byte lies past the chunk
    try {
      for (let w = from; w < lastStart; w += KERNEL_WINDOW_BYTES) {
        const end = Math.min(n, w + KERNEL_WINDOW_BYTES + 3);
        const heads = this.#heads?.enabled() ? this.#heads : null;
        const count = kernel.scan(chunk, w, end, collapse, this.#inSliceRun, heads !== null);
        this.#inSliceRun = kernel.inSliceRunAfter;
        const delta = kernel.delta;
        if (heads === null) {
          const results = kernel.results;
          for (let i = 0; i < count; i++) {
            const j = (results[i] as number) - delta;
            this.onStartCode(chunk[j + 3] as number, base + j, chunk, j + 3);
          }
          continue;
        }
        const records = kernel.records;
        for (let i = 0; i < 2 * count; i += 2) {
          const j = (records[i] as number) - delta;
          const record = records[i + 1] as number;
          if (record < 0) this.onStartCode(chunk[j + 3] as number, base + j, chunk, j + 3);
          else heads.onPictureHead(base + j, record);
        }
      }
    } finally {
      kernel.release();
    }
    if (
      lastStart >= from &&
      chunk[lastStart] === 0 &&
      chunk[lastStart + 1] === 0 &&
      chunk[lastStart + 2] === 1
    ) {
      this.#pendingOffset = base + lastStart;
    }
  }

  #found(code: number, offset: number, chunk: Uint8Array, codeIndex: number): void {
    if (this.#collapseSlices && code !== 0 && code <= SLICE_LAST) {
      if (this.#inSliceRun) return;
      this.#inSliceRun = true;
    } else {
      this.#inSliceRun = false;
    }
    this.onStartCode(code, offset, chunk, codeIndex);
  }
}
