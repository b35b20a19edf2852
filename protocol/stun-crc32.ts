/** @module CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320) as STUN FINGERPRINT uses it (RFC 8489 14.7). */
import { crc32 as zlibCrc32 } from "node:zlib";

/**
 * CRC-32 of bytes, as an unsigned 32-bit number (check value 0xCBF43926 for "123456789"). zlib's, which is this
 * CRC exactly: every keepalive and its answer take two, and the native one cost a fifth of a byte-at-a-time
 * table loop in JavaScript (docs/benchmarks.md, keepalive path round).
 */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0;
}
