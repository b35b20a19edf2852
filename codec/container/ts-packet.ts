/** @module Transport Stream packet header and adaptation field parsers (ISO/IEC 13818-1 2.4.3.2, 2.4.3.4). */

import { codecError } from "../codec-error.ts";

/** sync_byte, ISO/IEC 13818-1 2.4.3.3. */
export const TS_SYNC_BYTE = 0x47;
/** transport_packet() is 188 bytes, ISO/IEC 13818-1 2.4.3.2. */
export const TS_PACKET_LENGTH = 188;
/** BDAV M2TS prefixes each packet with a 4-byte TP_extra_header (copy permission + arrival time stamp). */
export const M2TS_EXTRA_HEADER_LENGTH = 4;
export const M2TS_PACKET_LENGTH = TS_PACKET_LENGTH + M2TS_EXTRA_HEADER_LENGTH;
export const TS_HEADER_LENGTH = 4;
/** PIDs, ISO/IEC 13818-1 Table 2-3. */
export const PID_PAT = 0x0000;
export const PID_NULL = 0x1fff;
/** adaptation_field_control, ISO/IEC 13818-1 Table 2-5. */
export const AFC_RESERVED = 0b00;
export const AFC_PAYLOAD_ONLY = 0b01;
export const AFC_ADAPTATION_ONLY = 0b10;
/** adaptation_field_length is 183 without payload and at most 182 with, ISO/IEC 13818-1 2.4.3.5. */
const ADAPTATION_ONLY_LENGTH = 183;
const ADAPTATION_WITH_PAYLOAD_MAX = 182;
const PCR_LENGTH = 6;

export interface TsPacketHeader {
  offset: number;
  transportError: boolean;
  payloadUnitStart: boolean;
  priority: boolean;
  pid: number;
  scrambling: number;
  adaptationFieldControl: number;
  continuityCounter: number;
  hasAdaptationField: boolean;
  hasPayload: boolean;
}

export interface AdaptationField {
  /** adaptation_field_length: bytes after the length byte. */
  length: number;
  discontinuity: boolean;
  randomAccess: boolean;
  esPriority: boolean;
  /** program_clock_reference in 27 MHz units (base * 300 + extension), or undefined. */
  pcr: number | undefined;
}

/** Parses the 4-byte header at `offset`; throws CodecError ERR_TS_TRUNCATED, ERR_TS_SYNC or ERR_TS_HEADER. */
export function parseTsPacketHeader(bytes: Uint8Array, offset: number): TsPacketHeader {
  if (bytes.length - offset < TS_HEADER_LENGTH) {
    throw codecError(
      "ERR_TS_TRUNCATED",
      `Cannot parse TS packet header: ${bytes.length - offset} bytes`,
      offset,
    );
  }
  if (bytes[offset] !== TS_SYNC_BYTE) {
    throw codecError(
      "ERR_TS_SYNC",
      `Cannot parse TS packet header: sync byte is 0x${bytes[offset]!.toString(16)}`,
      offset,
    );
  }
  const b1 = bytes[offset + 1]!;
  const b3 = bytes[offset + 3]!;
  const adaptationFieldControl = (b3 >> 4) & 0x03;
  if (adaptationFieldControl === AFC_RESERVED) {
    throw codecError(
      "ERR_TS_HEADER",
      "Cannot parse TS packet header: adaptation_field_control '00' is reserved",
      offset,
    );
  }
  return {
    offset,
    transportError: (b1 & 0x80) !== 0,
    payloadUnitStart: (b1 & 0x40) !== 0,
    priority: (b1 & 0x20) !== 0,
    pid: ((b1 & 0x1f) << 8) | bytes[offset + 2]!,
    scrambling: b3 >> 6,
    adaptationFieldControl,
    continuityCounter: b3 & 0x0f,
    hasAdaptationField: (adaptationFieldControl & 0b10) !== 0,
    hasPayload: (adaptationFieldControl & 0b01) !== 0,
  };
}

/**
 * Parses the adaptation field whose adaptation_field_length byte is at `offset`, inside a packet with the
 * given adaptation_field_control; `end` bounds the packet. Throws CodecError ERR_TS_ADAPTATION_FIELD.
 */
export function parseAdaptationField(
  bytes: Uint8Array,
  offset: number,
  adaptationFieldControl: number,
  end = offset + ADAPTATION_ONLY_LENGTH + 1,
): AdaptationField {
  const fail = (message: string): never => {
    throw codecError("ERR_TS_ADAPTATION_FIELD", `Cannot parse adaptation field: ${message}`, offset);
  };
  if (offset >= bytes.length || offset >= end) fail("the packet ends before adaptation_field_length");
  const length = bytes[offset]!;
  if (
    adaptationFieldControl === AFC_ADAPTATION_ONLY
      ? length !== ADAPTATION_ONLY_LENGTH
      : length > ADAPTATION_WITH_PAYLOAD_MAX
  ) {
    fail(`adaptation_field_length ${length} does not fit adaptation_field_control ${adaptationFieldControl}`);
  }
  if (offset + 1 + length > Math.min(end, bytes.length))
    fail(`adaptation_field_length ${length} runs past the packet`);
  if (length === 0)
    return { length, discontinuity: false, randomAccess: false, esPriority: false, pcr: undefined };
  const flags = bytes[offset + 1]!;
  let pcr: number | undefined;
  if (flags & 0x10) {
    if (length < 1 + PCR_LENGTH) fail(`adaptation_field_length ${length} cannot hold the PCR`);
    const p = offset + 2;
    const base =
      bytes[p]! * 2 ** 25 +
      ((bytes[p + 1]! << 17) | (bytes[p + 2]! << 9) | (bytes[p + 3]! << 1) | (bytes[p + 4]! >> 7));
    pcr = base * 300 + (((bytes[p + 4]! & 0x01) << 8) | bytes[p + 5]!);
  }
  return {
    length,
    discontinuity: (flags & 0x80) !== 0,
    randomAccess: (flags & 0x40) !== 0,
    esPriority: (flags & 0x20) !== 0,
    pcr,
  };
}
