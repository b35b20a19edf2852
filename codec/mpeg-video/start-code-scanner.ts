/** @module Streaming start-code scanner for MPEG video elementary streams (ISO/IEC 13818-2 5.2.3, 6.2.1). */

/**
 * Called once per start code, in stream order. `offset` is the absolute stream offset of the prefix's first
 * zero byte (which may lie in an earlier chunk); `chunk[codeIndex]` is the code byte, so the header bytes
 * that follow begin at `chunk[codeIndex + 1]` and may continue in the next chunk.
 */
export type StartCodeHandler = (code: number, offset: number, chunk: Uint8Array, codeIndex: number) => void;

/** A byte that cannot be part of a prefix: seeds "the bytes before the stream" so offset 0 needs no branch. */
const NOT_ZERO = 0xff;

/**
 * Finds every 00 00 01 xx in a stream fed in chunks of any size, including prefixes split across chunks.
 *
 * Speed: the scan asks the engine for the next 0x01 byte (`Uint8Array.prototype.indexOf`, a native memchr)
 * and only then looks at the two bytes before it, so JavaScript runs once per 0x01 byte (about one in 256
 * bytes of coded data) instead of once per byte. Zero stuffing (ISO/IEC 13818-2 5.2.3: any number of zero
 * bytes before a start code) needs no special case: the prefix is always the last two zeros before the 01,
 * and the earlier zeros stay with the bytes before it.
 */
export class StartCodeScanner {
  #bytesSeen = 0;
  /** The last two bytes of everything pushed so far (`#last1` is the very last). */
  #last1 = NOT_ZERO;
  #last2 = NOT_ZERO;
  /** Offset of a start code whose 00 00 01 ended the previous chunk, so its code byte opens the next one. */
  #pendingOffset = -1;

  constructor(readonly onStartCode: StartCodeHandler) {}

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
    let from = 0;
    if (this.#pendingOffset >= 0) {
      const at = this.#pendingOffset;
      this.#pendingOffset = -1;
      this.onStartCode(chunk[0] as number, at, chunk, 0);
      from = 1;
    }
    const last1 = this.#last1;
    const last2 = this.#last2;
    for (;;) {
      const i = chunk.indexOf(1, from);
      if (i < 0) break;
      // The two bytes before the 01, possibly from the previous chunk.
      const b1 = i >= 1 ? (chunk[i - 1] as number) : last1;
      const b2 = i >= 2 ? (chunk[i - 2] as number) : i === 1 ? last1 : last2;
      if (b1 !== 0 || b2 !== 0) {
        from = i + 1;
        continue;
      }
      if (i + 1 < n) {
        this.onStartCode(chunk[i + 1] as number, base + i - 2, chunk, i + 1);
        // The code byte cannot be the 01 of another prefix (its predecessor is 01), but it may be a zero
        // that begins one, which the two-bytes-back check above still sees.
        from = i + 2;
      } else {
        this.#pendingOffset = base + i - 2;
        break;
      }
    }
    if (n >= 2) {
      this.#last2 = chunk[n - 2] as number;
      this.#last1 = chunk[n - 1] as number;
    } else {
      this.#last2 = last1;
      this.#last1 = chunk[0] as number;
    }
    this.#bytesSeen = base + n;
  }
}
