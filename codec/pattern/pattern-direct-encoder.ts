/** @module Sender side of pattern mode: turns a direct part stream into its pattern form (pattern header after the split header, ranges encrypted). */
import { codecError } from "../codec-error.ts";
import { decodeSplitHeader, peekSplitHeaderLength, type SplitHeader } from "../split/split-format.ts";
import { CbcsEsCipher } from "./cbcs-es-cipher.ts";
import { type CbcsBlockCipher, CbcsPatternCipher } from "./cbcs-pattern-cipher.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import { PatternCipher, type PatternKeystream } from "./pattern-cipher.ts";
import { encodePatternHeaderPieces, rebindPatternHeader } from "./pattern-header-encoder.ts";
import { encodePatternHeaderV3, runsBodyEnd } from "./pattern-header-v3.ts";
import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import type { PatternScheme } from "./pattern-scheme.ts";

/**
 * Takes the plain direct part exactly as split writes it (split header, then body; chunks of any size) and
 * returns the bytes to send: the split header unchanged, the pattern header, then the body with the plan's
 * ranges encrypted in place. The output is `addedBytes` longer than the input, nothing else changes length.
 */
export class PatternDirectEncoder {
  readonly #ranges: PatternRangeTable;
  readonly #salt: Uint8Array;
  /**
   * Version 3/4: the header with a zero hash and a body ending at the runs' end, until the split header comes;
   * then dropped. Versions 1/2 keep no header: it is made from the range table when the split header comes, as
   * pieces that are the table's own bytes (the table grows with the recording, issue 14).
   */
  #header: Uint8Array | undefined;
  readonly #tableEnd: number;
  readonly #keys: PatternKeystream | { cbcs: CbcsBlockCipher };
  readonly #scheme: PatternScheme;
  readonly #chainStarts: readonly number[];
  /** A plan in ES coordinates: header version 3 and EsPatternCipher (slice-block), or 4 and CbcsEsCipher (cbcs). */
  readonly #es: EsPatternPlan | undefined;
  #head: Uint8Array = new Uint8Array(0);
  #split: SplitHeader | undefined;
  #cipher: PatternCipher | CbcsPatternCipher | EsPatternCipher | CbcsEsCipher | undefined;
  /** Length of the pattern header this encoder inserts. */
  readonly addedBytes: number;

  /**
   * `salt`: 16 CSPRNG bytes, the same given to makePatternKeystream (or makeCbcsTransform, for the cbcs scheme)
   * for this transfer. `keys`: the keystream, or for cbcs the block cipher.
   */
  constructor(
    plan: {
      scheme: PatternScheme;
      ranges: PatternRanges;
      chainStarts?: readonly number[];
      es?: EsPatternPlan | undefined;
    },
    salt: Uint8Array,
    keys: PatternKeystream | { cbcs: CbcsBlockCipher },
  ) {
    this.#ranges = PatternRangeTable.from(plan.ranges);
    if ((plan.scheme.kind === "cbcs") !== (typeof keys !== "function"))
      throw new TypeError(
        "Cannot apply pattern: the cbcs scheme takes a block cipher, the others a keystream",
      );
    this.#keys = keys;
    this.#scheme = plan.scheme;
    this.#chainStarts = plan.chainStarts ?? [];
    this.#es = plan.es;
    this.#salt = salt;
    // The plan is checked now, by encoding its header: a bad plan fails here rather than mid-stream. The header
    // depends on the split header only through two fields, written when that arrives.
    if (plan.es !== undefined) {
      this.#tableEnd = runsBodyEnd(plan.es);
      this.#header = encodePatternHeaderV3({
        plan: plan.es,
        salt,
        originalSha256: new Uint8Array(32),
        directBodyLength: Math.max(this.#tableEnd, plan.es.encryptedBytes),
      });
    } else {
      this.#tableEnd = this.#ranges.end();
      this.#header = undefined;
    }
    this.addedBytes =
      this.#header?.length ??
      this.#headerPieces(new Uint8Array(32), this.#tableEnd).reduce((n, p) => n + p.length, 0);
  }

  /** The pattern header for this split header's two fields, as pieces (see #header). */
  #headerPieces(originalSha256: Uint8Array, directBodyLength: number): Uint8Array[] {
    if (this.#header !== undefined)
      return [rebindPatternHeader(this.#header, originalSha256, directBodyLength, this.#tableEnd)];
    return encodePatternHeaderPieces({
      scheme: this.#scheme,
      salt: this.#salt,
      originalSha256,
      directBodyLength,
      ranges: this.#ranges,
      ...(this.#scheme.kind === "cbcs" ? { chainStarts: this.#chainStarts } : {}),
    });
  }

  /** The split header of the part, once it has passed. */
  get splitHeader(): SplitHeader | undefined {
    return this.#split;
  }

  /** Takes the next bytes of the plain direct part; body bytes are encrypted IN PLACE in `chunk`. */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#cipher !== undefined) return this.#apply(chunk);
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
    const header = this.#headerPieces(split.sha256, split.bodyLength);
    this.#header = undefined;
    const keys = this.#keys;
    const es = this.#es;
    this.#cipher =
      es !== undefined && es.scheme.kind === "cbcs" && typeof keys !== "function"
        ? new CbcsEsCipher({ ...es, scheme: es.scheme }, split.bodyLength, keys.cbcs)
        : es !== undefined && typeof keys === "function"
          ? new EsPatternCipher(es, split.bodyLength, keys)
          : typeof keys === "function"
            ? new PatternCipher({ ranges: this.#ranges, scheme: this.#scheme }, split.bodyLength, keys)
            : new CbcsPatternCipher(
                { ranges: this.#ranges, chainStarts: this.#chainStarts },
                split.bodyLength,
                keys.cbcs,
              );
    const body = chunk.subarray(length - (joined.length - chunk.length));
    return [joined.subarray(0, length), ...header, ...this.#apply(body)];
  }

  #apply(chunk: Uint8Array): Uint8Array[] {
    const cipher = this.#cipher!;
    if (cipher instanceof CbcsPatternCipher || cipher instanceof CbcsEsCipher) return cipher.push(chunk);
    cipher.apply(chunk);
    return chunk.length > 0 ? [chunk] : [];
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
