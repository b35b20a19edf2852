/** @module Which bytes of each P/B slice the pattern mode encrypts: the schemes the leak bench compares. */

/** AES block length (FIPS 197): the block pattern counts in these units, as CENC cbcs does. */
export const PATTERN_BLOCK_BYTES = 16;

/**
 * - `slice-start`: the first `bytes` bytes after each slice_start_code (slice header and first macroblocks).
 *   An MPEG-2 decoder cannot resynchronise inside a slice (ISO/IEC 13818-2 6.2.4: the only entry point is the
 *   next slice start code), so a damaged slice start loses the whole slice.
 * - `block`: CENC-cbcs-like (ISO/IEC 23001-7 10.4.2): `crypt` 16-byte blocks encrypted, then `skip` left clear,
 *   repeated from the first byte after each slice_start_code; a trailing partial block is encrypted if it falls
 *   in a crypt run (CTR needs no whole blocks).
 * - `full`: every byte of every P/B slice after its start code; the upper bound of the family.
 * - `slice-block`: the `block` pattern defined by a rule instead of listed: the range table holds each slice's
 *   data span, and sender and receiver both encrypt `crypt` blocks then skip `skip` from each range's first
 *   byte. A slice cut by TS or PS packet headers has its crypt runs listed one by one instead (each no longer
 *   than a run, so the rule encrypts it whole). The same bytes as `block` in every container; in an elementary
 *   stream at a tenth of its table (one row per slice, not per period).
 * - `cbcs`: H.264, as ISO/IEC 23001-7:2016 10.4 (CENC 'cbcs'): of each coded slice NAL unit the NAL header and
 *   slice header stay clear; of the slice data `crypt` whole 16-byte blocks are AES-128-CBC-encrypted, then
 *   `skip` left clear, repeated; a trailing partial block stays clear; the slice's last 16 bytes are a chain of
 *   their own (codec/container/cbcs-slice-blocks.ts says why). The ranges list exactly the encrypted
 *   bytes (whole blocks, split where packet headers cut them), and the header lists where each CBC chain
 *   (slice) begins: CBC is not a keystream, so the receiver needs the chain boundaries, not a rule.
 */
export type PatternScheme =
  | { kind: "slice-start"; bytes: number }
  | { kind: "block"; crypt: number; skip: number }
  | { kind: "full" }
  | { kind: "slice-block"; crypt: number; skip: number }
  | {
      kind: "cbcs";
      crypt: number;
      skip: number;
      /** false: no last block per slice (the layout before it; the bench measures its cost). Default true. */
      tail?: boolean;
    };

/** Scheme codes in the pattern header (byte 9); docs/security.md lists them. */
export const SCHEME_SLICE_START = 1;
export const SCHEME_BLOCK = 2;
export const SCHEME_FULL = 3;
export const SCHEME_SLICE_BLOCK = 4;
/** Only in pattern header version 2 (codec/pattern/pattern-header.ts), which carries the chain starts. */
export const SCHEME_CBCS = 5;

/** The H.264 default: CENC cbcs 1:9, the pattern ISO/IEC 23001-7:2016 10.4.2 recommends for video. */
export const DEFAULT_H264_PATTERN_SCHEME: PatternScheme = { kind: "cbcs", crypt: 1, skip: 9 };

/**
 * The default: chosen by the leak bench (docs/security.md), the cheapest scheme that leaves nothing useful to
 * ffmpeg and to the re-synchronising attacker of bench/lib/attack/ (slice-start 64, the former default, left up
 * to 86 % of the frames visible to that attacker).
 */
export const DEFAULT_PATTERN_SCHEME: PatternScheme = { kind: "slice-block", crypt: 1, skip: 9 };

/** Largest parameter a header can carry (u16 fields). */
const MAX_PARAM = 0xffff;

/** Throws a RangeError unless the scheme's parameters are usable. */
export function checkPatternScheme(s: PatternScheme): void {
  const ok = (n: number, min: number) => Number.isInteger(n) && n >= min && n <= MAX_PARAM;
  if (s.kind === "slice-start" && !ok(s.bytes, 1)) {
    throw new RangeError(`Cannot use pattern scheme: slice-start bytes ${s.bytes} is not 1..${MAX_PARAM}`);
  }
  if (
    (s.kind === "block" || s.kind === "slice-block" || s.kind === "cbcs") &&
    (!ok(s.crypt, 1) || !ok(s.skip, 0))
  ) {
    throw new RangeError(
      `Cannot use pattern scheme: ${s.kind} ${s.crypt}:${s.skip} is not 1..65535:0..65535`,
    );
  }
}

/** Human name, e.g. "slice-start 16", "block 1:9", "full": what the bench and docs print. */
export function patternSchemeName(s: PatternScheme): string {
  if (s.kind === "slice-start") return `slice-start ${s.bytes}`;
  if (s.kind === "block" || s.kind === "slice-block" || s.kind === "cbcs")
    return `${s.kind} ${s.crypt}:${s.skip}`;
  return "full";
}

/**
 * Calls `emit(offset, length)` for each sub-range of the slice data span [start, end) that the scheme
 * encrypts, in ascending order. Offsets are in whatever coordinates start and end are given.
 */
export function schemeRanges(
  s: PatternScheme,
  start: number,
  end: number,
  emit: (offset: number, length: number) => void,
): void {
  if (end <= start) return;
  // slice-block lists the whole span: the cipher applies its block rule inside each range (blockRule()).
  if (s.kind === "full" || s.kind === "slice-block" || s.kind === "cbcs") {
    emit(start, end - start);
  } else if (s.kind === "slice-start") {
    emit(start, Math.min(s.bytes, end - start));
  } else {
    const run = s.crypt * PATTERN_BLOCK_BYTES;
    const period = (s.crypt + s.skip) * PATTERN_BLOCK_BYTES;
    for (let at = start; at < end; at += period) emit(at, Math.min(run, end - at));
  }
}

/** Header encoding of a scheme: code and two u16 parameters. */
export function encodeScheme(s: PatternScheme): { code: number; a: number; b: number } {
  checkPatternScheme(s);
  if (s.kind === "slice-start") return { code: SCHEME_SLICE_START, a: s.bytes, b: 0 };
  if (s.kind === "block") return { code: SCHEME_BLOCK, a: s.crypt, b: s.skip };
  if (s.kind === "slice-block") return { code: SCHEME_SLICE_BLOCK, a: s.crypt, b: s.skip };
  if (s.kind === "cbcs") return { code: SCHEME_CBCS, a: s.crypt, b: s.skip };
  return { code: SCHEME_FULL, a: 0, b: 0 };
}

/** The scheme of a header's code and parameters, or undefined when they are not a valid combination. */
export function decodeScheme(code: number, a: number, b: number): PatternScheme | undefined {
  if (code === SCHEME_SLICE_START && a >= 1 && b === 0) return { kind: "slice-start", bytes: a };
  if (code === SCHEME_BLOCK && a >= 1) return { kind: "block", crypt: a, skip: b };
  if (code === SCHEME_FULL && a === 0 && b === 0) return { kind: "full" };
  if (code === SCHEME_SLICE_BLOCK && a >= 1) return { kind: "slice-block", crypt: a, skip: b };
  if (code === SCHEME_CBCS && a >= 1) return { kind: "cbcs", crypt: a, skip: b };
  return undefined;
}

/**
 * How the cipher treats each listed range: every byte (`undefined`), or only the bytes at range-relative
 * offsets r with r mod period < crypt (slice-block). Bytes.
 */
export function blockRule(s: PatternScheme): { crypt: number; period: number } | undefined {
  if (s.kind !== "slice-block") return undefined;
  return { crypt: s.crypt * PATTERN_BLOCK_BYTES, period: (s.crypt + s.skip) * PATTERN_BLOCK_BYTES };
}

/** Bytes a block rule encrypts among a range's first `length` bytes: whole periods, then the partial run. */
export function ruleBytes(rule: { crypt: number; period: number }, length: number): number {
  const periods = Math.floor(length / rule.period);
  return periods * rule.crypt + Math.min(length - periods * rule.period, rule.crypt);
}
