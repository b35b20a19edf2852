/** @module Strict parser for group_of_pictures_header() (ISO/IEC 13818-2 6.2.2.6, 6.3.8; ISO/IEC 11172-2 2.4.2.4). */
import { type CodecError, codecError } from "../codec-error.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { GROUP_START_CODE, START_CODE_BYTES } from "./start-codes.ts";

/** time_code (25 bits) + closed_gop + broken_link = 27 bits, padded to 4 bytes (ISO/IEC 13818-2 6.2.2.6). */
export const GOP_HEADER_BYTES = START_CODE_BYTES + 4;
/** time_code field limits (ISO/IEC 13818-2 Table 6-11). */
export const TIME_CODE_MAX_HOURS = 23;
export const TIME_CODE_MAX_MINUTES = 59;
export const TIME_CODE_MAX_SECONDS = 59;
export const TIME_CODE_MAX_PICTURES = 59;

export interface TimeCode {
  dropFrame: boolean;
  hours: number;
  minutes: number;
  seconds: number;
  pictures: number;
}

export interface GopHeader {
  offset: number;
  length: number;
  timeCode: TimeCode;
  closedGop: boolean;
  brokenLink: boolean;
}

const WHAT = "GOP header";

/** Parses the GOP header whose start code (00 00 01 B8) is at `bytes[offset]`. Throws CodecError. */
export function parseGopHeader(bytes: Uint8Array, offset: number): GopHeader {
  requireStartCode(bytes, offset, GROUP_START_CODE, WHAT);
  const b = offset + START_CODE_BYTES;
  // The whole header (27 bits) straight from its 4 bytes, as readGopHeader would read it; one per GOP.
  if (b + 4 > bytes.length) return readGopHeader(bytes, offset);
  const b0 = bytes[b] as number;
  const b1 = bytes[b + 1] as number;
  const b2 = bytes[b + 2] as number;
  const b3 = bytes[b + 3] as number;
  return checkedGopHeader(offset, {
    dropFrame: (b0 & 0x80) !== 0, // drop_frame_flag, bit 0
    hours: (b0 >> 2) & 31, // time_code_hours, bits 1-5
    minutes: ((b0 & 3) << 4) | (b1 >> 4), // time_code_minutes, bits 6-11
    marker: (b1 >> 3) & 1, // marker_bit, bit 12
    seconds: ((b1 & 7) << 3) | (b2 >> 5), // time_code_seconds, bits 13-18
    pictures: ((b2 & 31) << 1) | (b3 >> 7), // time_code_pictures, bits 19-24
    closedGop: (b3 & 0x40) !== 0, // closed_gop, bit 25
    brokenLink: (b3 & 0x20) !== 0, // broken_link, bit 26
  });
}

/** The general path, field by field, for input too short for the byte path (truncation with its bit). */
export function readGopHeader(bytes: Uint8Array, offset: number): GopHeader {
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const dropFrame = r.flag();
    const hours = r.read(5);
    const minutes = r.read(6);
    const marker = r.read(1);
    const seconds = r.read(6);
    const pictures = r.read(6);
    const closedGop = r.flag();
    const brokenLink = r.flag();
    return checkedGopHeader(offset, {
      dropFrame,
      hours,
      minutes,
      marker,
      seconds,
      pictures,
      closedGop,
      brokenLink,
    });
  } catch (e) {
    throw truncation(e, "ERR_GOP_TRUNCATED", WHAT, offset);
  }
}

/** The header's fields as read, before any check; one record per GOP, so allocating it costs nothing measurable. */
interface GopFields extends TimeCode {
  /** marker_bit between minutes and seconds; must be 1. */
  marker: number;
  closedGop: boolean;
  brokenLink: boolean;
}

function checkedGopHeader(
  offset: number,
  { dropFrame, hours, minutes, marker, seconds, pictures, closedGop, brokenLink }: GopFields,
): GopHeader {
  if (marker !== 1) throw fail("ERR_GOP_MARKER", "marker_bit in time_code is 0", offset);
  if (
    hours > TIME_CODE_MAX_HOURS ||
    minutes > TIME_CODE_MAX_MINUTES ||
    seconds > TIME_CODE_MAX_SECONDS ||
    pictures > TIME_CODE_MAX_PICTURES
  ) {
    throw fail(
      "ERR_GOP_TIME_CODE",
      `time_code ${hours}:${minutes}:${seconds}.${pictures} is out of range`,
      offset,
    );
  }
  // The 5 zero bits that follow (next_start_code() alignment) are not checked: stuffing is not an error.
  return {
    offset,
    length: GOP_HEADER_BYTES,
    timeCode: { dropFrame, hours, minutes, seconds, pictures },
    closedGop,
    brokenLink,
  };
}

function fail(code: string, why: string, offset: number): CodecError {
  return codecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}

/**
 * A time_code as SMPTE 12M writes it, HH:MM:SS:FF, with ";" before the pictures when drop_frame_flag is set
 * (ISO/IEC 13818-2 6.3.8: time_code "as in IEC 461"); ffprobe prints the first GOP's this way.
 */
export function formatTimeCode(t: TimeCode): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(t.hours)}:${two(t.minutes)}:${two(t.seconds)}${t.dropFrame ? ";" : ":"}${two(t.pictures)}`;
}
