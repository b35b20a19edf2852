/** @module For header tests: every truncation and every single-bit flip of an encoded header, resealing, and the CodecError code a call ends with. */
import { expect } from "bun:test";
import { createHash } from "node:crypto";
import { CodecError } from "../../codec/codec-error.ts";

/** The stable `code` of the CodecError `fn` throws, or "no error"; any other exception propagates. */
export function codecErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
  return "no error";
}

/** Every proper prefix of `header`, shortest first (views, not copies). */
export function* truncations(header: Uint8Array): Generator<{ length: number; bytes: Uint8Array }> {
  for (let length = 0; length < header.length; length++) yield { length, bytes: header.subarray(0, length) };
}

/** A copy of `header` with one bit flipped, for every bit of every byte. */
export function* bitFlips(header: Uint8Array): Generator<{ byte: number; bit: number; bytes: Uint8Array }> {
  for (let byte = 0; byte < header.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const bytes = header.slice();
      bytes[byte]! ^= 1 << bit;
      yield { byte, bit, bytes };
    }
  }
}

/** Rewrites the trailing SHA-256 over everything before it, so a crafted header is well-formed but says something wrong. */
export function resealSha256(header: Uint8Array, digestBytes: number): Uint8Array {
  const at = header.length - digestBytes;
  header.set(createHash("sha256").update(header.subarray(0, at)).digest().subarray(0, digestBytes), at);
  return header;
}

/**
 * Asserts that every single-bit flip of `header` makes `decode` end in one of `allowed` codes, and in the same
 * one when decoded again (a stable code per damage, never an exception of another kind).
 */
export function expectOneStableCodePerBitFlip(
  header: Uint8Array,
  decode: (bytes: Uint8Array) => unknown,
  allowed: readonly string[],
): void {
  for (const { bytes } of bitFlips(header)) {
    const first = codecErrorCode(() => decode(bytes));
    expect(allowed).toContain(first);
    expect(codecErrorCode(() => decode(bytes))).toBe(first);
  }
}
