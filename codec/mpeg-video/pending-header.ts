/** @module The header a streaming MPEG video parser is collecting: its start code and the bytes after it, across chunks. */
import { SEQUENCE_HEADER_MAX_BYTES } from "./sequence-header.ts";
import { SEQUENCE_HEADER_CODE, START_CODE_BYTES } from "./start-codes.ts";

/** Bytes buffered after a picture, GOP or extension start code: more than any of those headers needs. */
const SMALL_HEADER_BYTES = 16;

/**
 * One header at a time, copied into a fixed buffer as chunks arrive and handed out when the next start code
 * (or the end of the stream) bounds it, so a header cut short by a start code is seen as truncated.
 */
export class PendingHeader {
  /** The start code being collected, or -1 when none is. */
  code = -1;
  /** ES offset of its 00 00 01. */
  offset = 0;
  readonly #bytes = new Uint8Array(SEQUENCE_HEADER_MAX_BYTES);
  #filled = 0;
  #want = 0;
  readonly #views: Uint8Array[] = [];

  /** Starts collecting the header whose start code's last byte is `chunk[codeIndex]`. */
  start(code: number, offset: number, chunk: Uint8Array, codeIndex: number): void {
    const b = this.#bytes;
    b[0] = 0;
    b[1] = 0;
    b[2] = 1;
    b[3] = code;
    this.code = code;
    this.offset = offset;
    this.#filled = START_CODE_BYTES;
    this.#want = code === SEQUENCE_HEADER_CODE ? SEQUENCE_HEADER_MAX_BYTES : SMALL_HEADER_BYTES;
    this.fill(chunk, codeIndex + 1);
  }

  /** Copies what the header still wants from `chunk`, starting at `from`. */
  fill(chunk: Uint8Array, from: number): void {
    if (this.code < 0) return;
    const b = this.#bytes;
    const stop = Math.min(chunk.length, from + this.#want - this.#filled);
    if (stop - from > SMALL_HEADER_BYTES) {
      // A sequence header's room for its matrices (140 bytes): one copy rather than a byte loop per GOP.
      b.set(chunk.subarray(from, stop), this.#filled);
      this.#filled += stop - from;
      return;
    }
    // A byte loop: these headers are a few bytes, and subarray()+set() would allocate a view per picture.
    let k = this.#filled;
    for (let i = from; i < stop; i++) b[k++] = chunk[i] as number;
    this.#filled = k;
  }

  /**
   * Ends collection at the start code (or stream end) at ES offset `end`: the header's bytes up to there, a
   * view valid until the next start(). Views are cached per length so handing one out allocates none.
   */
  take(end: number): Uint8Array {
    this.code = -1;
    const n = Math.min(this.#filled, end - this.offset);
    let v = this.#views[n];
    if (v === undefined) {
      v = this.#bytes.subarray(0, n);
      this.#views[n] = v;
    }
    return v;
  }
}
