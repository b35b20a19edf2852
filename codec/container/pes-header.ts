/** @module PES packet header parser for MPEG-2 (ISO/IEC 13818-1 2.4.3.6) and MPEG-1 (ISO/IEC 11172-1 2.4.3.3) syntax. */

import { codecError } from "../codec-error.ts";

/** packet_start_code_prefix 0x000001, ISO/IEC 13818-1 2.4.3.7. */
export const PACKET_START_CODE_PREFIX = 0x000001;
/** stream_id values, ISO/IEC 13818-1 Table 2-22. */
export const STREAM_ID_PROGRAM_STREAM_MAP = 0xbc;
export const STREAM_ID_PRIVATE_STREAM_1 = 0xbd;
export const STREAM_ID_PADDING = 0xbe;
export const STREAM_ID_PRIVATE_STREAM_2 = 0xbf;
export const STREAM_ID_AUDIO_FIRST = 0xc0;
export const STREAM_ID_AUDIO_LAST = 0xdf;
export const STREAM_ID_VIDEO_FIRST = 0xe0;
export const STREAM_ID_VIDEO_LAST = 0xef;
export const STREAM_ID_ECM = 0xf0;
export const STREAM_ID_EMM = 0xf1;
export const STREAM_ID_DSMCC = 0xf2;
export const STREAM_ID_H222_1_TYPE_E = 0xf8;
export const STREAM_ID_PROGRAM_STREAM_DIRECTORY = 0xff;
/** Bytes before the optional header: start code prefix (3), stream_id (1), PES_packet_length (2). */
export const PES_FIXED_HEADER_LENGTH = 6;
/** MPEG-2 optional header: '10' flags byte, flags byte, PES_header_data_length, ISO/IEC 13818-1 2.4.3.6. */
const MPEG2_OPTIONAL_HEADER_LENGTH = 3;
/** At most 16 stuffing bytes (0xFF) in an MPEG-1 packet header, ISO/IEC 11172-1 2.4.3.3. */
const MPEG1_MAX_STUFFING = 16;
const MPEG1_STUFFING_BYTE = 0xff;
/** '00001111': no PTS/DTS in an MPEG-1 packet header, ISO/IEC 11172-1 2.4.3.3. */
const MPEG1_NO_TIMESTAMP = 0x0f;
/** PTS_DTS_flags '01' is forbidden, ISO/IEC 13818-1 2.4.3.7. */
const PTS_DTS_FORBIDDEN = 0b01;
const TIMESTAMP_LENGTH = 5;

export type PesSyntax = "mpeg2" | "mpeg1" | "none";

export interface PesHeader {
  /** Offset of the packet_start_code_prefix in the parsed buffer. */
  offset: number;
  streamId: number;
  /** PES_packet_length: bytes after this field; 0 means unbounded (video in a Transport Stream only). */
  packetLength: number;
  syntax: PesSyntax;
  /** Bytes from the start code to the first payload byte. */
  headerLength: number;
  /** 90 kHz presentation time stamp, or undefined when absent. */
  pts: number | undefined;
  dts: number | undefined;
  dataAlignment: boolean;
  /** PES_scrambling_control != 0 (MPEG-2 syntax only). */
  scrambled: boolean;
}

/** Streams whose PES packets carry no optional header, ISO/IEC 13818-1 2.4.3.6 (the stream_id test). */
export function pesHasOptionalHeader(streamId: number): boolean {
  return !(
    streamId === STREAM_ID_PROGRAM_STREAM_MAP ||
    streamId === STREAM_ID_PADDING ||
    streamId === STREAM_ID_PRIVATE_STREAM_2 ||
    streamId === STREAM_ID_ECM ||
    streamId === STREAM_ID_EMM ||
    streamId === STREAM_ID_PROGRAM_STREAM_DIRECTORY ||
    streamId === STREAM_ID_DSMCC ||
    streamId === STREAM_ID_H222_1_TYPE_E
  );
}

export function isVideoStreamId(streamId: number): boolean {
  return streamId >= STREAM_ID_VIDEO_FIRST && streamId <= STREAM_ID_VIDEO_LAST;
}

function readTimestamp(b: Uint8Array, at: number): number {
  // 33 bits spread as 3 + 15 + 15 with marker bits between, ISO/IEC 13818-1 2.4.3.6.
  const high = (b[at]! >> 1) & 0x07;
  const mid = ((b[at + 1]! << 8) | b[at + 2]!) >> 1;
  const low = ((b[at + 3]! << 8) | b[at + 4]!) >> 1;
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot parse PES header: ${message}`, offset);
}

/**
 * Parses the PES header at `offset`. The MPEG-1 or MPEG-2 syntax is told apart by the first byte after
 * PES_packet_length: MPEG-2 starts with '10', which no MPEG-1 header byte can.
 * Throws CodecError (ERR_PES_TRUNCATED, ERR_PES_START_CODE, ERR_PES_HEADER) on a bad header.
 */
export function parsePesHeader(bytes: Uint8Array, offset: number): PesHeader {
  const avail = bytes.length - offset;
  if (avail < PES_FIXED_HEADER_LENGTH) {
    fail("ERR_PES_TRUNCATED", `${avail} bytes are below the fixed 6`, offset);
  }
  if (bytes[offset] !== 0 || bytes[offset + 1] !== 0 || bytes[offset + 2] !== 1) {
    fail("ERR_PES_START_CODE", "no packet_start_code_prefix 00 00 01", offset);
  }
  const streamId = bytes[offset + 3]!;
  if (streamId < STREAM_ID_PROGRAM_STREAM_MAP) {
    fail("ERR_PES_START_CODE", `stream_id 0x${streamId.toString(16)} is not a PES stream`, offset);
  }
  const packetLength = (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
  const end = packetLength === 0 ? Number.POSITIVE_INFINITY : offset + PES_FIXED_HEADER_LENGTH + packetLength;
  const base = {
    offset,
    streamId,
    packetLength,
    pts: undefined as number | undefined,
    dts: undefined as number | undefined,
    dataAlignment: false,
    scrambled: false,
  };
  if (!pesHasOptionalHeader(streamId)) {
    return { ...base, syntax: "none", headerLength: PES_FIXED_HEADER_LENGTH };
  }
  let p = offset + PES_FIXED_HEADER_LENGTH;
  const need = (n: number) => {
    if (p + n > end) fail("ERR_PES_HEADER", `header runs past PES_packet_length ${packetLength}`, offset);
    if (p + n > bytes.length) fail("ERR_PES_TRUNCATED", "header is cut off", offset);
  };
  need(1);
  if ((bytes[p]! & 0xc0) === 0x80) {
    need(MPEG2_OPTIONAL_HEADER_LENGTH);
    const flags1 = bytes[p]!;
    const flags2 = bytes[p + 1]!;
    const dataLength = bytes[p + 2]!;
    p += MPEG2_OPTIONAL_HEADER_LENGTH;
    need(dataLength);
    const ptsDts = flags2 >> 6;
    if (ptsDts === PTS_DTS_FORBIDDEN) fail("ERR_PES_HEADER", "PTS_DTS_flags '01' is forbidden", offset);
    const stampBytes = ptsDts === 0b11 ? 2 * TIMESTAMP_LENGTH : ptsDts === 0b10 ? TIMESTAMP_LENGTH : 0;
    if (stampBytes > dataLength) {
      fail("ERR_PES_HEADER", `PES_header_data_length ${dataLength} cannot hold the time stamps`, offset);
    }
    const pts = ptsDts & 0b10 ? readTimestamp(bytes, p) : undefined;
    const dts = ptsDts === 0b11 ? readTimestamp(bytes, p + TIMESTAMP_LENGTH) : undefined;
    return {
      ...base,
      syntax: "mpeg2",
      headerLength: p + dataLength - offset,
      pts,
      dts,
      dataAlignment: (flags1 & 0x04) !== 0,
      scrambled: (flags1 & 0x30) !== 0,
    };
  }
  // MPEG-1 packet header: stuffing, optional STD buffer fields, then the time stamp marker byte.
  let stuffing = 0;
  while (bytes[p] === MPEG1_STUFFING_BYTE) {
    if (++stuffing > MPEG1_MAX_STUFFING) fail("ERR_PES_HEADER", "more than 16 stuffing bytes", offset);
    p++;
    need(1);
  }
  if ((bytes[p]! & 0xc0) === 0x40) {
    need(3);
    p += 2; // '01' STD_buffer_scale STD_buffer_size
  }
  const marker = bytes[p]!;
  let pts: number | undefined;
  let dts: number | undefined;
  if (marker >> 4 === 0b0010) {
    need(TIMESTAMP_LENGTH);
    pts = readTimestamp(bytes, p);
    p += TIMESTAMP_LENGTH;
  } else if (marker >> 4 === 0b0011) {
    need(2 * TIMESTAMP_LENGTH);
    pts = readTimestamp(bytes, p);
    dts = readTimestamp(bytes, p + TIMESTAMP_LENGTH);
    p += 2 * TIMESTAMP_LENGTH;
  } else if (marker === MPEG1_NO_TIMESTAMP) {
    p += 1;
  } else {
    fail(
      "ERR_PES_HEADER",
      `byte 0x${marker.toString(16)} is neither MPEG-2 flags nor an MPEG-1 time stamp`,
      offset,
    );
  }
  return { ...base, syntax: "mpeg1", headerLength: p - offset, pts, dts };
}
