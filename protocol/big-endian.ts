/** @module Big-endian (network order) integer reads and writes on byte arrays, without a DataView. */

// Why not DataView: a DataView needs the array's ArrayBuffer, and reading `.buffer` of a small typed array makes
// JavaScriptCore give it a buffer of its own (a heap allocation and a copy). The keepalive path does that on every
// datagram and every reply it builds: 15 % of the node's CPU in the control bench's keepalive rounds
// (docs/benchmarks.md, Control node). Plain byte arithmetic reads the same bits and allocates nothing.

/** The unsigned 16-bit value at b[at..at+2). The caller checks the bounds. */
export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** The unsigned 32-bit value at b[at..at+4). The caller checks the bounds. */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Writes the low 16 bits of v at b[at..at+2). */
export function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

/** Writes v (taken as unsigned 32-bit) at b[at..at+4). */
export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
