/** @module Sender side of pattern mode: turns a direct part stream into its pattern form (pattern header after the split header, ranges encrypted). */
import { codecError } from "../codec-error.ts";
import { decodeSplitHeader, peekSplitHeaderLength, type SplitHeader } from "../split/split-format.ts";
import { PatternCipher, type PatternKeystream } from "./pattern-cipher.ts";
import { encodePatternHeader, rebindPatternHeader } from "./pattern-header.ts";
import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import type { PatternScheme } from "./pattern-scheme.ts";

/**
 * Takes the plain direct part exactly as split writes it (split header, then body; chunks of any size) and
 * returns the bytes to send: the split header unchanged, the pattern header, then the body with the plan's
 * ranges encrypted in place. The output is `addedBytes` longer than the input, nothing else changes length.
 */
export class PatternDirectEncoder {
  readonly #ranges: PatternRangeTable;
  /** The pattern header with a zero hash and a body ending at the table's end, until the split header comes. */
  readonly #header: Uint8Array;
  readonly #tableEnd: number;
  readonly #keystream: PatternKeystream;
  readonly #scheme: PatternScheme;
  #head: Uint8Array = new Uint8Array(0);
  #split: SplitHeader | undefined;
  #cipher: PatternCipher | undefined;
  /** Length of the pattern header this encoder inserts. */
  readonly addedBytes: number;

  /** `salt`: 16 CSPRNG bytes, the same given to makePatternKeystream for this transfer. */
  constructor(
    plan: { scheme: PatternScheme; ranges: PatternRanges },
    salt: Uint8Array,
    keystream: PatternKeystream,
  ) {
    this.#ranges = PatternRangeTable.from(plan.ranges);
    this.#keystream = keystream;
    this.#scheme = plan.scheme;
    this.#tableEnd = this.#ranges.end();
    // The header is encoded (and the plan checked) now, once: it depends on the split header only through two
    // fields, rewritten when that arrives. A bad plan fails here rather than mid-stream.
    this.#header = encodePatternHeader({
      scheme: plan.scheme,
      salt,
      originalSha256: new Uint8Array(32),
      directBodyLength: this.#tableEnd,
      ranges: this.#ranges,
    });
    this.addedBytes = this.#header.length;
  }

  /** The split header of the part, once it has passed. */
  get splitHeader(): SplitHeader | undefined {
    return this.#split;
  }

  /** Takes the next bytes of the plain direct part; body bytes are encrypted IN PLACE in `chunk`. */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#cipher !== undefined) {
      this.#cipher.apply(chunk);
      return chunk.length > 0 ? [chunk] : [];
    }
    const joined = new Uint8Array(this.#head.length + chunk.length);
    joined.set(this.#head, 0);
    joined.set(chunk, this.#head.length);
    const length = peekSplitHeaderLength(joined);
    if (length === undefined || joined.length < length) {
      this.#head = joined;
      return [];
    }
    const split = decodeSplitHeader(joined.subarray(0, length));
    if (split.part !== "direct") {
      throw codecError("ERR_PATTERN_PAIR", "Cannot apply pattern: the part is not a direct part", 9);
    }
    this.#split = split;
    this.#head = new Uint8Array(0);
    const header = rebindPatternHeader(this.#header, split.sha256, split.bodyLength, this.#tableEnd);
    this.#cipher = new PatternCipher(
      { ranges: this.#ranges, scheme: this.#scheme },
      split.bodyLength,
      this.#keystream,
    );
    const body = chunk.subarray(length - (joined.length - chunk.length));
    this.#cipher.apply(body);
    const out = [joined.subarray(0, length), header];
    if (body.length > 0) out.push(body);
    return out;
  }

  /** After the last chunk: throws ERR_PATTERN_TRUNCATED / ERR_PATTERN_LENGTH unless the whole part passed. */
  finish(): void {
    if (this.#cipher === undefined) {
      throw codecError(
        "ERR_PATTERN_TRUNCATED",
        "Cannot apply pattern: the part ended inside its split header",
        0,
      );
    }
    this.#cipher.finish();
  }
}
