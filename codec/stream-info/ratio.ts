/** @module Exact ratios for frame rates and aspect ratios: reduced, and the nearest small one for a decimal. */
import type { Ratio } from "../recording-index.ts";

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** num/den reduced to lowest terms; null for a zero or non-finite part. */
export function ratio(num: number, den: number): Ratio | null {
  if (!Number.isFinite(num) || !Number.isFinite(den) || num <= 0 || den <= 0) return null;
  const g = gcd(num, den);
  return [num / g, den / g];
}

/** a * b, reduced. */
export function multiply(a: Ratio, b: Ratio): Ratio | null {
  return ratio(a[0] * b[0], a[1] * b[1]);
}

/**
 * The ratio nearest `x` with numerator and denominator at most `max`, by continued fractions (what ffmpeg's
 * av_d2q does for MPEG-1's decimal pel aspect ratios, so both print the same fraction).
 */
export function nearestRatio(x: number, max: number): Ratio | null {
  if (!(x > 0) || !Number.isFinite(x)) return null;
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let rest = x;
  for (let i = 0; i < 32; i++) {
    const a = Math.floor(rest);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (h2 > max || k2 > max) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (rest - a < 1e-9) break;
    rest = 1 / (rest - a);
  }
  return ratio(h1, k1);
}
