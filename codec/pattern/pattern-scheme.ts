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
 */
export type PatternScheme =
  | { kind: "slice-start"; bytes: number }
  | { kind: "block"; crypt: number; skip: number }
  | { kind: "full" };

/** Scheme codes in the pattern header (byte 9); docs/security.md lists them. */
export const SCHEME_SLICE_START = 1;
export const SCHEME_BLOCK = 2;
export const SCHEME_FULL = 3;

/** The default: chosen by the leak bench (docs/security.md), the cheapest scheme that leaves nothing useful. */
export const DEFAULT_PATTERN_SCHEME: PatternScheme = { kind: "slice-start", bytes: 64 };

/** Largest parameter a header can carry (u16 fields). */
const MAX_PARAM = 0xffff;

/** Throws a RangeError unless the scheme's parameters are usable. */
export function checkPatternScheme(s: PatternScheme): void {
  const ok = (n: number, min: number) => Number.isInteger(n) && n >= min && n <= MAX_PARAM;
  if (s.kind === "slice-start" && !ok(s.bytes, 1)) {
    throw new RangeError(`Cannot use pattern scheme: slice-start bytes ${s.bytes} is not 1..${MAX_PARAM}`);
  }
  if (s.kind === "block" && (!ok(s.crypt, 1) || !ok(s.skip, 0))) {
    throw new RangeError(`Cannot use pattern scheme: block ${s.crypt}:${s.skip} is not 1..65535:0..65535`);
  }
}

/** Human name, e.g. "slice-start 16", "block 1:9", "full": what the bench and docs print. */
export function patternSchemeName(s: PatternScheme): string {
  if (s.kind === "slice-start") return `slice-start ${s.bytes}`;
  if (s.kind === "block") return `block ${s.crypt}:${s.skip}`;
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
  if (s.kind === "full") {
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
  return { code: SCHEME_FULL, a: 0, b: 0 };
}

/** The scheme of a header's code and parameters, or undefined when they are not a valid combination. */
export function decodeScheme(code: number, a: number, b: number): PatternScheme | undefined {
  if (code === SCHEME_SLICE_START && a >= 1 && b === 0) return { kind: "slice-start", bytes: a };
  if (code === SCHEME_BLOCK && a >= 1) return { kind: "block", crypt: a, skip: b };
  if (code === SCHEME_FULL && a === 0 && b === 0) return { kind: "full" };
  return undefined;
}
