/** @module Applies a pattern keystream to a direct body streamed in chunks by walking a version 3 plan (slices in ES coordinates and unit runs): encrypts and decrypts alike, in place. */
import { codecError } from "../codec-error.ts";
import { type EsPatternPlan, EsPatternWalk } from "./es-pattern-plan.ts";
import { PatternBodyCursor } from "./pattern-body-cursor.ts";
// The keystream runs are PatternCipher's, for the same reasons.
import { KEYSTREAM_RUN_BYTES, type PatternKeystream } from "./pattern-cipher.ts";
import { WINDOW_ROWS } from "./pattern-range-table.ts";
import type { EncodedRuns } from "./run-window.ts";
import type { StoredRuns } from "./stored-runs.ts";

/**
 * PatternCipher for a version 3 plan: the same bytes get the same keystream (position = ordinal among encrypted
 * bytes), so the ciphertext equals that of the version 1 plan listing those bytes, but the pieces come from
 * the plan's walk as the body streams past, never from a row per piece. XOR is its own inverse: the receiver
 * runs the same. Chunk boundaries anywhere; a piece cut by one is finished in the next chunk.
 */
export class EsPatternCipher {
  readonly #walk: EsPatternWalk;
  readonly #keystream: PatternKeystream;
  readonly #body: PatternBodyCursor;
  readonly #encryptedBytes: number;
  /** Pieces from the walk, (body offset, length) pairs: #pieceCount of them, #piece the next to apply. */
  readonly #pieces = new Float64Array(2 * WINDOW_ROWS);
  #pieceCount = 0;
  #piece = 0;
  /** The piece being applied (body offset, bytes left); #left 0: take the next. */
  #at = 0;
  #left = 0;
  #done = false;
  /** Keystream position of the next encrypted byte, and the run made ahead. */
  #ksPos = 0;
  #run: Uint8Array = new Uint8Array(0);
  #runWords: DataView = new DataView(new ArrayBuffer(0));
  #runStart = 0;

  constructor(
    plan: Pick<EsPatternPlan, "scheme" | "slices" | "runCount" | "encryptedBytes"> & {
      runs: Float64Array | StoredRuns | EncodedRuns;
    },
    bodyLength: number,
    keystream: PatternKeystream,
  ) {
    this.#walk = new EsPatternWalk(plan);
    this.#keystream = keystream;
    this.#body = new PatternBodyCursor(bodyLength);
    this.#encryptedBytes = plan.encryptedBytes;
  }

  /** Body bytes seen so far. */
  get position(): number {
    return this.#body.position;
  }

  /** Transforms the next `chunk.length` body bytes in place. Throws ERR_PATTERN_LENGTH past the body's end. */
  apply(chunk: Uint8Array): void {
    const start = this.#body.take(chunk.length);
    const end = start + chunk.length;
    // No warming pass (PatternCipher's): slice-block XORs 16 bytes in every 160, which streams the chunk in.
    const walk = this.#walk;
    const pieces = this.#pieces;
    let piece = this.#piece;
    let count = this.#pieceCount;
    let at = this.#at;
    let left = this.#left;
    let ks = this.#run;
    let runStart = this.#runStart;
    let ksPos = this.#ksPos;
    // XOR 4 bytes at a time through DataViews (unaligned access is allowed; the byte order is the same on both
    // sides, so it is a bytewise XOR): 16-byte pieces every 160 bytes over 64 MiB took 12.5-13.8 ms against
    // 21.1-21.6 ms byte by byte (a scratch test on this machine), and this cipher's phase in
    // bench/pattern-cost-phases.ts fell from 57-61 to 48-53 ms best on broadcast.ts. PatternCipher (version 1)
    // measured the opposite for its own loop, and keeps bytes (its comment).
    const words = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let ksWords = this.#runWords;
    while (!this.#done) {
      if (left === 0) {
        if (piece === count) {
          count = walk.fill(pieces);
          piece = 0;
          if (count === 0) {
            this.#done = true;
            break;
          }
        }
        at = pieces[2 * piece]!;
        left = pieces[2 * piece + 1]!;
        piece++;
      }
      if (at >= end) break;
      const n = Math.min(left, end - at);
      if (ksPos + n > runStart + ks.length) {
        const made = this.#keystream(ksPos, Math.max(n, KEYSTREAM_RUN_BYTES));
        ks = new Uint8Array(made.buffer, made.byteOffset, made.byteLength);
        ksWords = new DataView(made.buffer, made.byteOffset, made.byteLength);
        runStart = ksPos;
      }
      let k = (ksPos - runStart) | 0;
      const to = (at + n - start) | 0;
      let x = (at - start) | 0;
      for (; x + 4 <= to; x += 4, k += 4)
        words.setInt32(x, words.getInt32(x, true) ^ ksWords.getInt32(k, true), true);
      for (; x < to; x++, k++) chunk[x]! ^= ks[k]!;
      at += n;
      left -= n;
      ksPos += n;
    }
    this.#piece = piece;
    this.#pieceCount = count;
    this.#at = at;
    this.#left = left;
    this.#run = ks;
    this.#runWords = ksWords;
    this.#runStart = runStart;
    this.#ksPos = ksPos;
  }

  /** Moves past the next `n` body bytes without having them (a resumed transfer): PatternBodyCursor.skip(). */
  skip(n: number): void {
    PatternBodyCursor.skip(n, (c) => this.apply(c));
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body was transformed and the plan's bytes all encrypted. */
  finish(): void {
    this.#body.finish();
    if (
      !this.#done &&
      this.#left === 0 &&
      this.#piece === this.#pieceCount &&
      this.#walk.fill(this.#pieces) === 0
    )
      this.#done = true;
    if (!this.#done || this.#ksPos !== this.#encryptedBytes) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot finish pattern: ${this.#ksPos} bytes were encrypted, the plan says ${this.#encryptedBytes}`,
        this.#body.position,
      );
    }
  }
}
