/** @module Where a pattern cipher stands in the direct body: what every cipher's apply() checks first, skip() and the end check. */
import { codecError } from "../codec-error.ts";

/** Scratch bytes skip() runs a cipher over per call. */
export const SKIP_SCRATCH_BYTES = 1024 * 1024;

/**
 * The body position of a pattern cipher (PatternCipher, EsPatternCipher, CbcsPatternCipher): each chunk is
 * claimed with take() before it is transformed, so bytes past the body are refused before any is touched, and
 * finish() says whether exactly the body came. The ciphers share it instead of each repeating these checks.
 */
export class PatternBodyCursor {
  readonly #length: number;
  #pos = 0;

  constructor(bodyLength: number) {
    this.#length = bodyLength;
  }

  /** Body bytes claimed so far. */
  get position(): number {
    return this.#pos;
  }

  /** The body's length. */
  get length(): number {
    return this.#length;
  }

  /** Claims the next `n` body bytes; returns the offset of the first. Throws ERR_PATTERN_LENGTH past the body's end. */
  take(n: number): number {
    const start = this.#pos;
    if (start + n > this.#length) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot apply pattern: body runs past its ${this.#length} bytes`,
        start,
      );
    }
    this.#pos = start + n;
    return start;
  }

  /**
   * Moves a cipher past the next `n` body bytes without having them (a resumed transfer: the receiver holds the
   * body's first bytes already). The keystream is positional, so `apply` is run over scratch bytes to reach the
   * state a cipher that saw those bytes has.
   */
  static skip(n: number, apply: (chunk: Uint8Array) => void): void {
    const scratch = new Uint8Array(Math.min(n, SKIP_SCRATCH_BYTES));
    for (let left = n; left > 0; ) {
      const k = Math.min(left, scratch.length);
      apply(scratch.subarray(0, k));
      left -= k;
    }
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body was claimed; `final` counts bytes still held back (cbcs). */
  finish(held = 0): void {
    if (this.#pos !== this.#length || held > 0) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot finish pattern: ${this.#pos - held} of the body's ${this.#length} bytes came`,
        this.#pos,
      );
    }
  }
}
