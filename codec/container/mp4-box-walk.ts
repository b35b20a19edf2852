/** @module Checked walk of ISO BMFF boxes held in memory (ISO/IEC 14496-12 4.2): children, paths, integers. */

import { codecError } from "../codec-error.ts";

/** 32-bit size + fourcc; size 1 adds a 64-bit largesize; size 0 runs to the parent's end (ISO/IEC 14496-12 4.2). */
export const BOX_HEADER_BYTES = 8;
const LARGE_HEADER_BYTES = 16;
const SIZE_LARGE = 1;
const SIZE_TO_END = 0;

export interface BoxSpan {
  type: string;
  /** Offsets in the bytes walked: the box's first byte, its body (after the header) and its end. */
  start: number;
  body: number;
  end: number;
}

/** The boxes in b[from, to). Throws ERR_MP4_BOX on a size below its header or past its parent. */
export function boxChildren(b: Uint8Array, from: number, to: number): BoxSpan[] {
  const out: BoxSpan[] = [];
  let at = from;
  while (to - at >= BOX_HEADER_BYTES) {
    const type = fourcc(b, at + 4);
    let size = u32(b, at);
    let header = BOX_HEADER_BYTES;
    if (size === SIZE_LARGE) {
      if (to - at < LARGE_HEADER_BYTES) fail(`${type} at ${at} is cut inside its largesize`, at);
      size = u32(b, at + 8) * 2 ** 32 + u32(b, at + 12);
      header = LARGE_HEADER_BYTES;
    } else if (size === SIZE_TO_END) {
      size = to - at;
    }
    if (size < header) fail(`${type} at ${at} declares size ${size}, below its header`, at);
    if (size > to - at) fail(`${type} at ${at} declares size ${size}, past its parent's end`, at);
    out.push({ type, start: at, body: at + header, end: at + size });
    at += size;
  }
  return out;
}

/** The first box of each type along `types`, from inside `from`; undefined when one is missing. */
export function boxPath(b: Uint8Array, from: BoxSpan, types: readonly string[]): BoxSpan | undefined {
  let box: BoxSpan | undefined = from;
  for (const t of types) {
    if (!box) return undefined;
    box = boxChildren(b, box.body, box.end).find((c) => c.type === t);
  }
  return box;
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_MP4_BOX", `Cannot walk MP4 boxes: ${message}`, offset);
}

export function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
