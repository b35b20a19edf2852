/** @module Streaming walk of an MP4 file's top-level boxes: keeps one box (moov) whole, lets everything else (mdat) stream past. */

import type { IndexError } from "../recording-index.ts";

/** Box header: 32-bit size + fourcc; size 1 adds a 64-bit largesize; size 0 runs to the end (ISO/IEC 14496-12 4.2). */
export const BOX_HEADER_LENGTH = 8;
const LARGE_BOX_HEADER_LENGTH = 16;
const BOX_SIZE_LARGE = 1;
const BOX_SIZE_TO_END = 0;
/** Movie box (ISO/IEC 14496-12 8.2.1): the only top-level box the index needs whole. */
const MOOV = "moov";
/** Movie fragment box (ISO/IEC 14496-12 8.8.4). */
const MOOF = "moof";
/** A moov beyond this is refused, so a corrupt size cannot make us allocate gigabytes. */
export const MAX_MOOV_BYTES = 256 * 1024 * 1024;

/**
 * Walks top-level boxes across chunks of any size. Each box costs O(1) besides the bytes of a kept moov,
 * and the walk stops at the first box whose size is impossible, so no input can make it loop.
 */
export class Mp4TopLevelBoxes {
  /** File offset of the next byte to be pushed. */
  pos = 0;
  readonly #header = new Uint8Array(LARGE_BOX_HEADER_LENGTH);
  #headerFill = 0;
  #boxEnd = 0;
  #boxType = "";
  #collecting: Uint8Array | undefined;
  #collectFill = 0;
  #state: "header" | "body" | "stopped" = "header";
  #fragmentedReported = false;
  #moovSeen = false;

  /** `onMoov(box, fileOffset)` receives the first complete moov (header included); problems go to `errors`. */
  readonly #onMoov: (moov: Uint8Array, offset: number) => void;
  readonly #errors: IndexError[];

  constructor(onMoov: (moov: Uint8Array, offset: number) => void, errors: IndexError[]) {
    this.#onMoov = onMoov;
    this.#errors = errors;
  }

  push(chunk: Uint8Array): void {
    const chunkEnd = this.pos + chunk.length;
    let i = 0;
    while (i < chunk.length && this.#state !== "stopped") i += this.#walk(chunk, i);
    this.pos = chunkEnd;
  }

  /** Reports a kept box the file ends inside; afterwards pushes are ignored. */
  end(): void {
    if (this.#state === "body" && this.#collecting) {
      this.#error(this.pos, "ERR_MP4_TRUNCATED", `Cannot read ${this.#boxType}: the file ends inside it`);
    }
    this.#state = "stopped";
  }

  /** Consumes box-structure bytes from chunk[i..]; returns how many. */
  #walk(chunk: Uint8Array, i: number): number {
    if (this.#state === "header") {
      const want =
        this.#headerFill >= BOX_HEADER_LENGTH && this.#sizeField() === BOX_SIZE_LARGE
          ? LARGE_BOX_HEADER_LENGTH
          : BOX_HEADER_LENGTH;
      const take = Math.min(want - this.#headerFill, chunk.length - i);
      this.#header.set(chunk.subarray(i, i + take), this.#headerFill);
      this.#headerFill += take;
      this.pos += take;
      if (
        this.#headerFill === want &&
        (want === LARGE_BOX_HEADER_LENGTH || this.#sizeField() !== BOX_SIZE_LARGE)
      ) {
        this.#startBox(want);
      }
      return take;
    }
    const take = Math.min(this.#boxEnd - this.pos, chunk.length - i);
    if (this.#collecting) {
      this.#collecting.set(chunk.subarray(i, i + take), this.#collectFill);
      this.#collectFill += take;
    }
    this.pos += take;
    if (this.pos === this.#boxEnd) this.#endBox();
    return take;
  }

  #sizeField(): number {
    const h = this.#header;
    return h[0]! * 2 ** 24 + ((h[1]! << 16) | (h[2]! << 8) | h[3]!);
  }

  #startBox(headerLength: number): void {
    const h = this.#header;
    const start = this.pos - headerLength;
    this.#boxType = String.fromCharCode(h[4]!, h[5]!, h[6]!, h[7]!);
    let size = this.#sizeField();
    if (size === BOX_SIZE_LARGE) {
      size = (h[8]! * 2 ** 24 + ((h[9]! << 16) | (h[10]! << 8) | h[11]!)) * 2 ** 32;
      size += h[12]! * 2 ** 24 + ((h[13]! << 16) | (h[14]! << 8) | h[15]!);
    }
    this.#headerFill = 0;
    if (size !== BOX_SIZE_TO_END && size < headerLength) {
      this.#error(
        start,
        "ERR_MP4_BOX_SIZE",
        `Cannot walk MP4 boxes: ${this.#boxType} declares size ${size}, below its header`,
      );
      this.#state = "stopped";
      return;
    }
    this.#boxEnd = size === BOX_SIZE_TO_END ? Number.POSITIVE_INFINITY : start + size;
    if (this.#boxType === MOOF && !this.#fragmentedReported) {
      this.#fragmentedReported = true;
      this.#error(
        start,
        "ERR_MP4_FRAGMENTED",
        "Movie fragments (moof) are not indexed; only the moov sample tables are",
      );
    }
    this.#collecting = undefined;
    if (this.#boxType === MOOV && !this.#moovSeen) {
      if (size === BOX_SIZE_TO_END || size > MAX_MOOV_BYTES) {
        this.#error(
          start,
          "ERR_MP4_BOX_SIZE",
          `Cannot keep moov: size ${size} is unbounded or above 256 MiB`,
        );
      } else {
        this.#collecting = new Uint8Array(size);
        this.#collecting.set(h.subarray(0, headerLength));
        this.#collectFill = headerLength;
      }
    }
    this.#state = "body";
    if (this.pos === this.#boxEnd) this.#endBox();
  }

  #endBox(): void {
    this.#state = "header";
    const box = this.#collecting;
    this.#collecting = undefined;
    if (!box) return;
    this.#moovSeen = true;
    this.#onMoov(box, this.#boxEnd - box.length);
  }

  #error(offset: number, code: string, message: string): void {
    this.#errors.push({ offset, code, message });
  }
}
