/** @module The MPEG-2 macroblock-layer VLC tables (ISO/IEC 13818-2 Annex B) as lookup tables, for the leak bench's attacker. */

/**
 * A VLC decoded by one lookup: `peek(maxBits)` indexes `entries`, which holds `(value << 5) | codeLength`, or
 * -1 where no code starts (a forbidden or unused code: the parse is wrong).
 */
export interface VlcTable {
  maxBits: number;
  entries: Int32Array;
}

/** Builds a lookup table from `[code bits as a '0'/'1' string, value]` pairs; values must fit 26 bits, >= 0. */
export function buildVlc(codes: ReadonlyArray<readonly [string, number]>): VlcTable {
  const maxBits = Math.max(...codes.map(([c]) => c.length));
  const entries = new Int32Array(1 << maxBits).fill(-1);
  for (const [code, value] of codes) {
    const shift = maxBits - code.length;
    const first = Number.parseInt(code, 2) << shift;
    for (let i = 0; i < 1 << shift; i++) {
      if (entries[first + i] !== -1) throw new Error(`vlc: code ${code} is not prefix-free`);
      entries[first + i] = (value << 5) | code.length;
    }
  }
  return { maxBits, entries };
}

/** Table B-1, macroblock_address_increment 1..33; MACROBLOCK_ESCAPE (0000 0001 000) adds 33. */
export const MACROBLOCK_ESCAPE = 34;
export const ADDRESS_INCREMENT = buildVlc([
  ["1", 1],
  ["011", 2],
  ["010", 3],
  ["0011", 4],
  ["0010", 5],
  ["00011", 6],
  ["00010", 7],
  ["0000111", 8],
  ["0000110", 9],
  ...[0b1011, 0b1010, 0b1001, 0b1000, 0b0111, 0b0110].map((c, i): [string, number] => [
    `0000${c.toString(2).padStart(4, "0")}`,
    10 + i,
  ]),
  ...[0b010111, 0b010110, 0b010101, 0b010100, 0b010011, 0b010010].map((c, i): [string, number] => [
    `0000${c.toString(2).padStart(6, "0")}`,
    16 + i,
  ]),
  // 22..33: 0000 0100 011 down to 0000 0011 000, consecutive codes.
  ...Array.from({ length: 12 }, (_, i): [string, number] => [
    (0b00000100011 - i).toString(2).padStart(11, "0"),
    22 + i,
  ]),
  ["00000001000", MACROBLOCK_ESCAPE],
]);

/** macroblock_type flags (ISO/IEC 13818-2 Table 6-2 … B-4 columns). */
export const MB_QUANT = 1;
export const MB_FORWARD = 2;
export const MB_BACKWARD = 4;
export const MB_PATTERN = 8;
export const MB_INTRA = 16;

/** Table B-3, macroblock_type in P-pictures. */
export const P_MACROBLOCK_TYPE = buildVlc([
  ["1", MB_FORWARD | MB_PATTERN],
  ["01", MB_PATTERN],
  ["001", MB_FORWARD],
  ["00011", MB_INTRA],
  ["00010", MB_QUANT | MB_FORWARD | MB_PATTERN],
  ["00001", MB_QUANT | MB_PATTERN],
  ["000001", MB_QUANT | MB_INTRA],
]);

/** Table B-4, macroblock_type in B-pictures. */
export const B_MACROBLOCK_TYPE = buildVlc([
  ["10", MB_FORWARD | MB_BACKWARD],
  ["11", MB_FORWARD | MB_BACKWARD | MB_PATTERN],
  ["010", MB_BACKWARD],
  ["011", MB_BACKWARD | MB_PATTERN],
  ["0010", MB_FORWARD],
  ["0011", MB_FORWARD | MB_PATTERN],
  ["00011", MB_INTRA],
  ["00010", MB_QUANT | MB_FORWARD | MB_BACKWARD | MB_PATTERN],
  ["000011", MB_QUANT | MB_FORWARD | MB_PATTERN],
  ["000010", MB_QUANT | MB_BACKWARD | MB_PATTERN],
  ["000001", MB_QUANT | MB_INTRA],
]);

/**
 * Table B-9, coded_block_pattern: [code, length] by pattern value 0..63. Value 0 ("0000 0000 1") is not allowed
 * with 4:2:0 chroma, which is what makes it a tell of a wrong parse.
 */
// biome-ignore format: an 8-column table reads as the standard prints it
const CBP_CODES: ReadonlyArray<readonly [number, number]> = [
  [0x01, 9], [0x0b, 5], [0x09, 5], [0x0d, 6], [0x0d, 4], [0x17, 7], [0x13, 7], [0x1f, 8],
  [0x0c, 4], [0x16, 7], [0x12, 7], [0x1e, 8], [0x13, 5], [0x1b, 8], [0x17, 8], [0x13, 8],
  [0x0b, 4], [0x15, 7], [0x11, 7], [0x1d, 8], [0x11, 5], [0x19, 8], [0x15, 8], [0x11, 8],
  [0x0f, 6], [0x0f, 8], [0x0d, 8], [0x03, 9], [0x0f, 5], [0x0b, 8], [0x07, 8], [0x07, 9],
  [0x0a, 4], [0x14, 7], [0x10, 7], [0x1c, 8], [0x0e, 6], [0x0e, 8], [0x0c, 8], [0x02, 9],
  [0x10, 5], [0x18, 8], [0x14, 8], [0x10, 8], [0x0e, 5], [0x0a, 8], [0x06, 8], [0x06, 9],
  [0x12, 5], [0x1a, 8], [0x16, 8], [0x12, 8], [0x0d, 5], [0x09, 8], [0x05, 8], [0x05, 9],
  [0x0c, 5], [0x08, 8], [0x04, 8], [0x04, 9], [0x07, 3], [0x0a, 5], [0x08, 5], [0x0c, 6],
];
export const CODED_BLOCK_PATTERN = buildVlc(
  CBP_CODES.map(([code, len], value): [string, number] => [code.toString(2).padStart(len, "0"), value]),
);

/** Table B-10, motion_code magnitude 0..16 (a sign bit follows every non-zero code). */
export const MOTION_CODE = buildVlc(
  (
    [
      [1, 1],
      [1, 2],
      [1, 3],
      [1, 4],
      [3, 6],
      [5, 7],
      [4, 7],
      [3, 7],
      [0xb, 9],
      [0xa, 9],
      [9, 9],
      [0x11, 10],
      [0x10, 10],
      [0xf, 10],
      [0xe, 10],
      [0xd, 10],
      [0xc, 10],
    ] as const
  ).map(([code, len], value): [string, number] => [code.toString(2).padStart(len, "0"), value]),
);

/** Table B-11, dmvector: 0, +1, -1 (stored as 0, 1, 2). */
export const DMVECTOR = buildVlc([
  ["0", 0],
  ["10", 1],
  ["11", 2],
]);

/** Table B-12, dct_dc_size_luminance 0..11. */
export const DC_SIZE_LUMA = buildVlc([
  ["100", 0],
  ["00", 1],
  ["01", 2],
  ["101", 3],
  ["110", 4],
  ["1110", 5],
  ["11110", 6],
  ["111110", 7],
  ["1111110", 8],
  ["11111110", 9],
  ["111111110", 10],
  ["111111111", 11],
]);

/** Table B-13, dct_dc_size_chrominance 0..11. */
export const DC_SIZE_CHROMA = buildVlc([
  ["00", 0],
  ["01", 1],
  ["10", 2],
  ["110", 3],
  ["1110", 4],
  ["11110", 5],
  ["111110", 6],
  ["1111110", 7],
  ["11111110", 8],
  ["111111110", 9],
  ["1111111110", 10],
  ["1111111111", 11],
]);

/** DCT table values: (run << 12) | level; two special values. A sign bit follows every run/level code. */
export const DCT_END_OF_BLOCK = 1 << 25;
export const DCT_ESCAPE = (1 << 25) | 1;

/**
 * Table B-14 (DCT coefficients table zero), codes without their sign bit, as `run,level:code` groups. The
 * first coefficient of a non-intra block reads "1" as run 0 level 1 instead ("11" here, with "10" the EOB).
 */
const B14 = `0,1:11 1,1:011 0,2:0100 2,1:0101 0,3:00101 3,1:00111 4,1:00110 1,2:000110 5,1:000111
6,1:000101 7,1:000100 0,4:0000110 2,2:0000100 8,1:0000111 9,1:0000101 0,5:00100110 0,6:00100001
1,3:00100101 3,2:00100100 10,1:00100111 11,1:00100011 12,1:00100010 13,1:00100000 0,7:0000001010
1,4:0000001100 2,3:0000001011 4,2:0000001111 5,2:0000001001 14,1:0000001110 15,1:0000001101
16,1:0000001000 0,8:000000011101 0,9:000000011000 0,10:000000010011 0,11:000000010000 1,5:000000011011
2,4:000000010100 3,3:000000011100 4,3:000000010010 6,2:000000011110 7,2:000000010101 8,2:000000010001
17,1:000000011111 18,1:000000011010 19,1:000000011001 20,1:000000010111 21,1:000000010110
0,12:0000000011010 0,13:0000000011001 0,14:0000000011000 0,15:0000000010111 1,6:0000000010110
1,7:0000000010101 2,5:0000000010100 3,4:0000000010011 5,3:0000000010010 9,2:0000000010001
10,2:0000000010000 22,1:0000000011111 23,1:0000000011110 24,1:0000000011101 25,1:0000000011100
26,1:0000000011011 0,16:00000000011111 0,17:00000000011110 0,18:00000000011101 0,19:00000000011100
0,20:00000000011011 0,21:00000000011010 0,22:00000000011001 0,23:00000000011000 0,24:00000000010111
0,25:00000000010110 0,26:00000000010101 0,27:00000000010100 0,28:00000000010011 0,29:00000000010010
0,30:00000000010001 0,31:00000000010000 0,32:000000000011000 0,33:000000000010111 0,34:000000000010110
0,35:000000000010101 0,36:000000000010100 0,37:000000000010011 0,38:000000000010010
0,39:000000000010001 0,40:000000000010000 1,8:000000000011111 1,9:000000000011110 1,10:000000000011101
1,11:000000000011100 1,12:000000000011011 1,13:000000000011010 1,14:000000000011001
1,15:0000000000010011 1,16:0000000000010010 1,17:0000000000010001 1,18:0000000000010000
6,3:0000000000010100 11,2:0000000000011010 12,2:0000000000011001 13,2:0000000000011000
14,2:0000000000010111 15,2:0000000000010110 16,2:0000000000010101 27,1:0000000000011111
28,1:0000000000011110 29,1:0000000000011101 30,1:0000000000011100 31,1:0000000000011011`;

function b14Codes(): Array<[string, number]> {
  return B14.split(/\s+/).map((group): [string, number] => {
    const [runLevel, code] = group.split(":") as [string, string];
    const [run, level] = runLevel.split(",").map(Number) as [number, number];
    return [code, (run << 12) | level];
  });
}

/** Table B-14 for every coefficient but a non-intra block's first. */
export const DCT_TABLE_ZERO = buildVlc([...b14Codes(), ["10", DCT_END_OF_BLOCK], ["000001", DCT_ESCAPE]]);
/** Table B-14 for the first coefficient of a non-intra block: "1s" is run 0 level 1, no EOB. */
export const DCT_TABLE_ZERO_FIRST = buildVlc([
  ...b14Codes().filter(([code]) => !code.startsWith("1")),
  ["1", 1],
  ["000001", DCT_ESCAPE],
]);

/** The code of `value` in `t` as [bits, length], for writing: the shortest code the table gives it. */
export function codeOf(t: VlcTable, value: number): [number, number] {
  let best: [number, number] | undefined;
  for (let i = 0; i < t.entries.length; i++) {
    const e = t.entries[i]!;
    if (e < 0 || e >> 5 !== value) continue;
    const len = e & 31;
    if (best === undefined || len < best[1]) best = [i >>> (t.maxBits - len), len];
  }
  if (best === undefined) throw new RangeError(`Cannot encode ${value}: the table has no code for it`);
  return best;
}
