/** @module CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320) as STUN FINGERPRINT uses it (RFC 8489 14.7). */

/** Reflected form of the CRC-32 generator polynomial 0x04C11DB7 (ITU-T V.42 8.1.1.6.2). */
const CRC32_POLY_REFLECTED = 0xedb88320;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? CRC32_POLY_REFLECTED ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of bytes, as an unsigned 32-bit number (zlib's crc32, check value 0xCBF43926 for "123456789"). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.byteLength; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
