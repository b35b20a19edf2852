/** @module Program Stream pack and system header parsers (ISO/IEC 13818-1 2.5.3; MPEG-1: ISO/IEC 11172-1 2.4.3). */

import { codecError } from "../codec-error.ts";

/** Start code values (the byte after 00 00 01), ISO/IEC 13818-1 Table 2-33 and 2.5.3. */
export const PACK_START_CODE = 0xba;
export const SYSTEM_HEADER_START_CODE = 0xbb;
export const MPEG_PROGRAM_END_CODE = 0xb9;
/** MPEG-2 pack header without stuffing: 4 + 6 SCR + 3 mux rate + 1 stuffing length, ISO/IEC 13818-1 2.5.3.3. */
export const MPEG2_PACK_HEADER_LENGTH = 14;
/** MPEG-1 pack header: 4 + 5 SCR + 3 mux rate, ISO/IEC 11172-1 2.4.3.2. */
export const MPEG1_PACK_HEADER_LENGTH = 12;
/** The longest pack header: MPEG-2 with 7 stuffing bytes. */
export const MAX_PACK_HEADER_LENGTH = MPEG2_PACK_HEADER_LENGTH + 7;
/** system_header_start_code + header_length, ISO/IEC 13818-1 2.5.3.5. */
export const SYSTEM_HEADER_FIXED_LENGTH = 6;

export interface PackHeader {
  offset: number;
  /** MPEG-1 ('0010' after the start code) or MPEG-2 ('01'). */
  version: 1 | 2;
  /** Bytes including pack_stuffing. */
  length: number;
  /** system_clock_reference_base, 90 kHz. */
  scrBase: number;
  /** program_mux_rate in units of 50 bytes/s. */
  muxRate: number;
}

export interface SystemHeader {
  offset: number;
  /** Bytes including the start code and header_length. */
  length: number;
  rateBound: number;
  audioBound: number;
  videoBound: number;
}

function fail(code: string, what: string, message: string, offset: number): never {
  throw codecError(code, `Cannot parse ${what}: ${message}`, offset);
}

function startCodeAt(b: Uint8Array, at: number, code: number): boolean {
  return b[at] === 0 && b[at + 1] === 0 && b[at + 2] === 1 && b[at + 3] === code;
}

/** Parses a pack_header at `offset`; throws CodecError ERR_PS_PACK_HEADER or ERR_PS_TRUNCATED. */
export function parsePackHeader(bytes: Uint8Array, offset: number): PackHeader {
  const what = "pack header";
  if (bytes.length - offset < MPEG1_PACK_HEADER_LENGTH) {
    fail("ERR_PS_TRUNCATED", what, `${bytes.length - offset} bytes are below 12`, offset);
  }
  if (!startCodeAt(bytes, offset, PACK_START_CODE)) {
    fail("ERR_PS_PACK_HEADER", what, "no pack_start_code 00 00 01 BA", offset);
  }
  const b = (i: number) => bytes[offset + i]!;
  if ((b(4) & 0xc0) === 0x40) {
    if (bytes.length - offset < MPEG2_PACK_HEADER_LENGTH) {
      fail("ERR_PS_TRUNCATED", what, `${bytes.length - offset} bytes are below 14`, offset);
    }
    // Marker bits of the SCR and program_mux_rate, ISO/IEC 13818-1 2.5.3.3.
    if (!(b(4) & 0x04) || !(b(6) & 0x04) || !(b(8) & 0x04) || !(b(9) & 0x01) || (b(12) & 0x03) !== 0x03) {
      fail("ERR_PS_PACK_HEADER", what, "a marker bit of the MPEG-2 SCR or mux rate is 0", offset);
    }
    const scrBase =
      ((b(4) >> 3) & 0x07) * 2 ** 30 +
      (((b(4) & 0x03) << 13) | (b(5) << 5) | (b(6) >> 3)) * 2 ** 15 +
      (((b(6) & 0x03) << 13) | (b(7) << 5) | (b(8) >> 3));
    const muxRate = (b(10) << 14) | (b(11) << 6) | (b(12) >> 2);
    const length = MPEG2_PACK_HEADER_LENGTH + (b(13) & 0x07);
    if (bytes.length - offset < length) {
      fail("ERR_PS_TRUNCATED", what, `pack_stuffing runs past the ${bytes.length - offset} bytes`, offset);
    }
    return { offset, version: 2, length, scrBase, muxRate };
  }
  if (b(4) >> 4 === 0b0010) {
    // ISO/IEC 11172-1 2.4.3.2: '0010' SCR[32..30] marker SCR[29..15] marker SCR[14..0] marker, marker rate marker.
    if (!(b(4) & 0x01) || !(b(6) & 0x01) || !(b(8) & 0x01) || !(b(9) & 0x80) || !(b(11) & 0x01)) {
      fail("ERR_PS_PACK_HEADER", what, "a marker bit of the MPEG-1 SCR or mux rate is 0", offset);
    }
    const scrBase =
      ((b(4) >> 1) & 0x07) * 2 ** 30 + ((b(5) << 7) | (b(6) >> 1)) * 2 ** 15 + ((b(7) << 7) | (b(8) >> 1));
    const muxRate = ((b(9) & 0x7f) << 15) | (b(10) << 7) | (b(11) >> 1);
    return { offset, version: 1, length: MPEG1_PACK_HEADER_LENGTH, scrBase, muxRate };
  }
  fail(
    "ERR_PS_PACK_HEADER",
    what,
    `byte 0x${b(4).toString(16)} starts neither an MPEG-1 nor an MPEG-2 SCR`,
    offset,
  );
}

/** Parses a system_header at `offset`; throws CodecError ERR_PS_SYSTEM_HEADER or ERR_PS_TRUNCATED. */
export function parseSystemHeader(bytes: Uint8Array, offset: number): SystemHeader {
  const what = "system header";
  // header_length (2) + rate_bound (3) + audio/video bounds (2) + rate restriction byte (1), 2.5.3.5.
  const minimum = SYSTEM_HEADER_FIXED_LENGTH + 6;
  if (bytes.length - offset < minimum) {
    fail("ERR_PS_TRUNCATED", what, `${bytes.length - offset} bytes are below ${minimum}`, offset);
  }
  if (!startCodeAt(bytes, offset, SYSTEM_HEADER_START_CODE)) {
    fail("ERR_PS_SYSTEM_HEADER", what, "no system_header_start_code 00 00 01 BB", offset);
  }
  const b = (i: number) => bytes[offset + i]!;
  const headerLength = (b(4) << 8) | b(5);
  if (headerLength < 6)
    fail("ERR_PS_SYSTEM_HEADER", what, `header_length ${headerLength} is below 6`, offset);
  if (!(b(6) & 0x80) || !(b(8) & 0x01)) {
    fail("ERR_PS_SYSTEM_HEADER", what, "a marker bit around rate_bound is 0", offset);
  }
  const length = SYSTEM_HEADER_FIXED_LENGTH + headerLength;
  if (bytes.length - offset < length) {
    fail("ERR_PS_TRUNCATED", what, `header_length ${headerLength} runs past the data`, offset);
  }
  return {
    offset,
    length,
    rateBound: ((b(6) & 0x7f) << 15) | (b(7) << 7) | (b(8) >> 1),
    audioBound: b(9) >> 2,
    videoBound: b(10) & 0x1f,
  };
}
