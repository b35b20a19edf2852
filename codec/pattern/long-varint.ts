/** @module The pattern table's multi-byte LEB128 numbers, read without allocating: the value returned, the end in a module cursor. */

/** Where the last longVarint() stopped: a module cursor, so the row loops read two numbers without allocating. */
export let varintEnd = 0;

/** An unsigned LEB128 number of two or more bytes at block[at]; sets varintEnd past it. */
export function longVarint(block: Uint8Array, at: number): number {
  let v = block[at++]!;
  let value = v & 0x7f;
  let scale = 128;
  do {
    v = block[at++]!;
    value += (v & 0x7f) * scale;
    scale *= 128;
  } while (v >= 0x80);
  varintEnd = at;
  return value;
}
