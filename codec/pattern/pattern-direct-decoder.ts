/** @module Receiver side of pattern mode: strips the pattern header from a direct part stream and decrypts its ranges, giving back the plain direct part. */
import { codecError } from "../codec-error.ts";
import { decodeSplitHeader, peekSplitHeaderLength, type SplitHeader } from "../split/split-format.ts";
import { CbcsEsCipher } from "./cbcs-es-cipher.ts";
import { type CbcsBlockCipher, CbcsPatternCipher } from "./cbcs-pattern-cipher.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { PatternCipher, type PatternKeystream } from "./pattern-cipher.ts";
import {
  decodePatternHeader,
  PATTERN_FIXED_BYTES,
  PATTERN_VERSION_CBCS_ES,
  PATTERN_VERSION_ES,
  PATTERN_VERSION_SEGMENTED,
  type PatternHeader,
  peekPatternHeaderLength,
} from "./pattern-header.ts";
import { decodePatternHeaderV3, type PatternHeaderV3 } from "./pattern-header-v3.ts";
import { decodePatternHeaderV5, type PatternHeaderV5 } from "./pattern-header-v5.ts";
import { PatternSegmentReader } from "./pattern-segment-reader.ts";
import type { EncodedRuns } from "./run-window.ts";
import { SpilledPatternHeader } from "./spilled-pattern-header.ts";

/** Bytes of a pattern header that say its length (peekPatternHeaderLength(): magic, version, …, length at 16). */
const PATTERN_LENGTH_PEEK_BYTES = 20;

/**
 * Takes the direct part as it crossed the wire in pattern mode (split header, pattern header, body; chunks of
 * any size) and returns the plain direct part (split header, body) for SplitMerger.push("direct", …). The
 * headers are checked against each other before any body byte is touched (ERR_PATTERN_PAIR); body chunks are
 * decrypted IN PLACE and returned as views.
 */
export class PatternDirectDecoder {
  readonly #keystreamFor: (salt: Uint8Array) => Promise<PatternKeystream>;
  readonly #cbcsFor: ((salt: Uint8Array) => Promise<CbcsBlockCipher>) | undefined;
  /** Bytes of a header not yet whole enough to say its length (the split header, the pattern header's first 20). */
  #head: Uint8Array = new Uint8Array(0);
  /** The pattern header being gathered, its announced length, and how much of it is in. */
  #patternBytes: Uint8Array | undefined;
  #patternFill = 0;
  #split: SplitHeader | undefined;
  #pattern: PatternHeader | PatternHeaderV3<EncodedRuns> | PatternHeaderV5 | undefined;
  #cipher: PatternCipher | CbcsPatternCipher | EsPatternCipher | CbcsEsCipher | undefined;
  /** Version 3/4 with a `spill`: the header going into it instead of #patternBytes, and the spill to close. */
  #spilled: SpilledPatternHeader | undefined;
  readonly #spillFor: (() => HeaderSpill) | undefined;
  #spill: HeaderSpill | undefined;
  /** Version 5: the segments and stretches after the header go through this instead of #cipher. */
  #segments: PatternSegmentReader | undefined;

  readonly #bodyFrom: number | ((split: SplitHeader) => number);

  /**
   * `keystreamFor(salt)`: makes the transfer's keystream, e.g. `(salt) => makePatternKeystream(sessionKey, salt)`.
   * `cbcsFor(salt)`: its decrypting block cipher for the cbcs scheme (H.264), e.g.
   * `(salt) => makeCbcsTransform(sessionKey, salt, "decrypt")`; without it a cbcs part is refused.
   * `bodyFrom`: a resumed transfer's body starts at this body byte (the receiver holds the ones before it), or a
   * function of the split header that says so; the part still carries both headers first.
   * `spill()`: where a version 3/4 header goes as it arrives, read back as the body passes, instead of being
   * gathered in memory (it grows with the recording); the decoder closes it in close().
   */
  constructor(
    keystreamFor: (salt: Uint8Array) => Promise<PatternKeystream>,
    o: {
      cbcsFor?: (salt: Uint8Array) => Promise<CbcsBlockCipher>;
      bodyFrom?: number | ((split: SplitHeader) => number);
      spill?: () => HeaderSpill;
    } = {},
  ) {
    this.#spillFor = o.spill;
    this.#keystreamFor = keystreamFor;
    this.#cbcsFor = o.cbcsFor;
    this.#bodyFrom = o.bodyFrom ?? 0;
  }

  /** The pattern header, once read: version 1/2, version 3/4 (`plan` in ES coordinates), or 5 (no table). */
  get header(): PatternHeader | PatternHeaderV3<EncodedRuns> | PatternHeaderV5 | undefined {
    return this.#pattern;
  }

  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#segments !== undefined) return this.#segments.push(chunk);
    if (this.#cipher !== undefined) return this.#apply(chunk);
    const out: Uint8Array[] = [];
    /** Bytes of `chunk` taken so far. */
    let at = 0;
    if (this.#split === undefined) {
      // The split header is small next to the body and must be whole before its digest is checked: it is copied.
      const joined = new Uint8Array(this.#head.length + chunk.length);
      joined.set(this.#head, 0);
      joined.set(chunk, this.#head.length);
      const length = peekSplitHeaderLength(joined);
      if (length === undefined || joined.length < length) {
        this.#head = joined;
        return out;
      }
      const split = decodeSplitHeader(joined.subarray(0, length));
      if (split.part !== "direct") {
        throw codecError("ERR_PATTERN_PAIR", "Cannot read pattern part: the part is not a direct part", 9);
      }
      this.#split = split;
      out.push(joined.slice(0, length));
      at = length - this.#head.length;
      this.#head = new Uint8Array(0);
    }
    // The pattern header grows with the recording (~3.3 MB a GiB of SD video): it is gathered into one buffer of
    // the length its first 20 bytes announce, not joined anew with every chunk (that made a fresh, longer copy
    // per chunk: ~90 MB of garbage for a 13 MB header, issue 14).
    if (this.#patternBytes === undefined) {
      const take = Math.min(PATTERN_LENGTH_PEEK_BYTES - this.#head.length, chunk.length - at);
      const head = new Uint8Array(this.#head.length + take);
      head.set(this.#head, 0);
      head.set(chunk.subarray(at, at + take), this.#head.length);
      at += take;
      const length = peekPatternHeaderLength(head);
      if (length === undefined) {
        this.#head = head;
        return out;
      }
      if (
        this.#spillFor !== undefined &&
        (head[8] === PATTERN_VERSION_ES || head[8] === PATTERN_VERSION_CBCS_ES)
      ) {
        this.#spill = this.#spillFor();
        this.#spilled = new SpilledPatternHeader(this.#spill, length);
        this.#spilled.push(head);
        this.#patternBytes = head;
      } else {
        this.#patternBytes = new Uint8Array(length);
        this.#patternBytes.set(head, 0);
        this.#patternFill = head.length;
      }
      this.#head = new Uint8Array(0);
    }
    const spilled = this.#spilled;
    if (spilled !== undefined) {
      at += spilled.push(chunk.subarray(at));
      if (!spilled.complete) return out;
      out.push(...(await this.#begin(spilled.decode(), chunk.subarray(at))));
      return out;
    }
    const gathered = this.#patternBytes;
    const take = Math.min(gathered.length - this.#patternFill, chunk.length - at);
    gathered.set(chunk.subarray(at, at + take), this.#patternFill);
    this.#patternFill += take;
    at += take;
    if (this.#patternFill < gathered.length) return out;
    if (gathered[8] === PATTERN_VERSION_SEGMENTED) {
      out.push(...(await this.#segmented(gathered, chunk.subarray(at))));
      return out;
    }
    // The runs stay the header's varints, read by the walk a window at a time: as a Float64Array they were 40
    // bytes a run, 16 MB on top of the 15 MB header for a 4.4 GB TS (issue 14).
    const pattern =
      gathered[8] === PATTERN_VERSION_ES || gathered[8] === PATTERN_VERSION_CBCS_ES
        ? decodePatternHeaderV3(gathered, { runs: "encoded" })
        : decodePatternHeader(gathered);
    out.push(...(await this.#begin(pattern, chunk.subarray(at))));
    return out;
  }

  /** Versions 1 to 4: checks the header against the split header, makes the cipher and applies it to `body`. */
  async #begin(
    pattern: PatternHeader | PatternHeaderV3<EncodedRuns>,
    body: Uint8Array,
  ): Promise<Uint8Array[]> {
    const split = this.#split!;
    this.#checkPair(pattern);
    const scheme = "plan" in pattern ? pattern.plan.scheme : pattern.scheme;
    if (scheme.kind === "cbcs" && this.#cbcsFor === undefined)
      throw codecError("ERR_PATTERN_SCHEME", "Cannot read pattern part: no cbcs cipher for its scheme", 9);
    if ("plan" in pattern && pattern.plan.scheme.kind === "cbcs") {
      this.#cipher = new CbcsEsCipher(
        { ...pattern.plan, scheme: pattern.plan.scheme },
        pattern.directBodyLength,
        await this.#cbcsFor!(pattern.salt),
      );
    } else if ("plan" in pattern) {
      this.#cipher = new EsPatternCipher(
        pattern.plan,
        pattern.directBodyLength,
        await this.#keystreamFor(pattern.salt),
      );
    } else if (pattern.scheme.kind === "cbcs") {
      this.#cipher = new CbcsPatternCipher(
        pattern,
        pattern.directBodyLength,
        await this.#cbcsFor!(pattern.salt),
      );
    } else {
      this.#cipher = new PatternCipher(
        pattern,
        pattern.directBodyLength,
        await this.#keystreamFor(pattern.salt),
      );
    }
    this.#pattern = pattern;
    this.#head = new Uint8Array(0);
    const bodyFrom = typeof this.#bodyFrom === "number" ? this.#bodyFrom : this.#bodyFrom(split);
    if (bodyFrom > 0) {
      // A cbcs chain cannot be entered midway: its next block needs the ciphertext of the one before, which the
      // receiver no longer has. The sender never resumes such a part (firmware/send/live-resume.ts).
      if (this.#cipher instanceof CbcsPatternCipher || this.#cipher instanceof CbcsEsCipher)
        throw codecError(
          "ERR_PATTERN_RESUME",
          "Cannot resume a cbcs pattern part: its CBC chains start over",
          9,
        );
      this.#cipher.skip(bodyFrom);
    }
    // The body's first bytes are a view into the caller's chunk, as for later chunks.
    this.#patternBytes = undefined;
    return this.#apply(body);
  }

  /** Version 5: checks the header against the split header, then reads what follows as segments and stretches. */
  async #segmented(gathered: Uint8Array, rest: Uint8Array): Promise<Uint8Array[]> {
    const pattern = decodePatternHeaderV5(gathered);
    this.#checkPair(pattern);
    const bodyFrom = typeof this.#bodyFrom === "number" ? this.#bodyFrom : this.#bodyFrom(this.#split!);
    this.#segments = new PatternSegmentReader(pattern, gathered.subarray(PATTERN_FIXED_BYTES), {
      keystream: await this.#keystreamFor(pattern.salt),
      bodyFrom,
    });
    this.#pattern = pattern;
    this.#patternBytes = undefined;
    return this.#segments.push(rest);
  }

  /** Throws ERR_PATTERN_PAIR unless the pattern header names the split header's original and body length. */
  #checkPair(pattern: { originalSha256: Uint8Array; directBodyLength: number }): void {
    const split = this.#split!;
    if (
      !Buffer.from(pattern.originalSha256).equals(split.sha256) ||
      pattern.directBodyLength !== split.bodyLength
    ) {
      throw codecError(
        "ERR_PATTERN_PAIR",
        "Cannot read pattern part: the pattern header belongs to another split",
        36,
      );
    }
  }

  #apply(chunk: Uint8Array): Uint8Array[] {
    const cipher = this.#cipher!;
    if (cipher instanceof CbcsPatternCipher || cipher instanceof CbcsEsCipher) return cipher.push(chunk);
    cipher.apply(chunk);
    return chunk.length > 0 ? [chunk] : [];
  }

  /** Closes the header's spill, if it has one: after finish(), or when the part failed or was given up. */
  close(): void {
    const spill = this.#spill;
    this.#spill = undefined;
    spill?.close();
  }

  /** After the last chunk: the pattern header; throws ERR_PATTERN_TRUNCATED / ERR_PATTERN_LENGTH on a short part. */
  finish(): PatternHeader | PatternHeaderV3<EncodedRuns> | PatternHeaderV5 {
    if (this.#segments !== undefined) {
      this.#segments.finish();
      return this.#pattern!;
    }
    if (this.#cipher === undefined || this.#pattern === undefined) {
      throw codecError("ERR_PATTERN_TRUNCATED", "Cannot read pattern part: it ended inside its headers", 0);
    }
    this.#cipher.finish();
    return this.#pattern;
  }
}
