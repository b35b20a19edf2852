/** @module CRC_32 of MPEG-2 PSI sections and the program stream map (ISO/IEC 13818-1 Annex A). */

/** Generator polynomial x^32 + x^26 + ... + 1, processed MSB first with no final XOR, Annex A.1. */
const CRC32_MPEG_POLYNOMIAL = 0x04c11db7;
const CRC32_MPEG_INITIAL = 0xffffffff;

/** The byte-at-a-time table, built on first use: most recordings (ES, MP4) never check a CRC. */
let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ CRC32_MPEG_POLYNOMIAL : c << 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC of bytes[start, end). A section whose trailing CRC_32 is included gives 0 when intact. */
export function crc32Mpeg(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crcTable();
  let crc = CRC32_MPEG_INITIAL;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ t[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}
