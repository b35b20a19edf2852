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
 * The ratio nearest `x` with numerator and denominator at most `max`: continued fractions with the last
 * semiconvergent, as ffmpeg's av_d2q/av_reduce compute it, so inspect prints the fraction ffprobe prints for
 * MPEG-1's decimal pel aspect ratios. `x` is taken as 61-bit fixed point, like av_d2q.
 */
export function nearestRatio(x: number, max: number): Ratio | null {
  if (!(x > 0) || !Number.isFinite(x)) return null;
  const exponent = Math.max(Math.floor(Math.log2(x + 1e-20)), 0);
  let den = 1n << BigInt(61 - exponent);
  let num = BigInt(Math.floor(x * Number(den) + 0.5));
  const m = BigInt(max);
  let [a0n, a0d, a1n, a1d] = [0n, 1n, 1n, 0n];
  while (den !== 0n) {
    let q = num / den;
    const rest = num - den * q;
    const a2n = q * a1n + a0n;
    const a2d = q * a1d + a0d;
    if (a2n > m || a2d > m) {
      if (a1n !== 0n) q = (m - a0n) / a1n;
      if (a1d !== 0n) q = q < (m - a0d) / a1d ? q : (m - a0d) / a1d;
      if (den * (2n * q * a1d + a0d) > num * a1d) [a1n, a1d] = [q * a1n + a0n, q * a1d + a0d];
      break;
    }
    [a0n, a0d, a1n, a1d] = [a1n, a1d, a2n, a2d];
    [num, den] = [den, rest];
  }
  return ratio(Number(a1n), Number(a1d));
}
