/** @module Program stream map parser (ISO/IEC 13818-1 2.5.4). */

import { codecError } from "../codec-error.ts";
import { crc32Mpeg } from "./mpeg-crc32.ts";
import { STREAM_ID_PROGRAM_STREAM_MAP } from "./pes-header.ts";

/** program_stream_map_length may not exceed 0x3FA (1018), ISO/IEC 13818-1 2.5.4.2. */
const MAX_PROGRAM_STREAM_MAP_LENGTH = 0x3fa;
/** Fixed fields after program_stream_map_length: 2 flag bytes, info length, ES map length, CRC_32. */
const PSM_FIXED_BODY = 2 + 2 + 2 + 4;
const CRC_LENGTH = 4;
const ES_ENTRY_FIXED = 4;

export interface ProgramStreamMap {
  offset: number;
  length: number;
  version: number;
  streams: { streamType: number; streamId: number }[];
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot parse program stream map: ${message}`, offset);
}

/** Parses the PSM packet at `offset`; throws CodecError ERR_PSM_TRUNCATED, ERR_PSM_LENGTH or ERR_PSM_CRC. */
export function parseProgramStreamMap(bytes: Uint8Array, offset: number): ProgramStreamMap {
  if (bytes.length - offset < 6)
    fail("ERR_PSM_TRUNCATED", `${bytes.length - offset} bytes are below 6`, offset);
  if (bytes[offset] !== 0 || bytes[offset + 1] !== 0 || bytes[offset + 2] !== 1) {
    fail("ERR_PSM_LENGTH", "no packet_start_code_prefix", offset);
  }
  if (bytes[offset + 3] !== STREAM_ID_PROGRAM_STREAM_MAP)
    fail("ERR_PSM_LENGTH", "map_stream_id is not 0xBC", offset);
  const mapLength = (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
  if (mapLength > MAX_PROGRAM_STREAM_MAP_LENGTH || mapLength < PSM_FIXED_BODY) {
    fail(
      "ERR_PSM_LENGTH",
      `program_stream_map_length ${mapLength} is outside ${PSM_FIXED_BODY}..1018`,
      offset,
    );
  }
  const end = offset + 6 + mapLength;
  if (end > bytes.length)
    fail("ERR_PSM_TRUNCATED", `program_stream_map_length ${mapLength} runs past the data`, offset);
  if (crc32Mpeg(bytes, offset, end) !== 0) fail("ERR_PSM_CRC", "CRC_32 does not match", offset);
  const version = bytes[offset + 6]! & 0x1f;
  let p = offset + 8;
  const infoLength = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2 + infoLength;
  if (p + 2 > end - CRC_LENGTH)
    fail("ERR_PSM_LENGTH", `program_stream_info_length ${infoLength} overflows`, offset);
  const mapBytes = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2;
  const mapEnd = p + mapBytes;
  if (mapEnd > end - CRC_LENGTH)
    fail("ERR_PSM_LENGTH", `elementary_stream_map_length ${mapBytes} overflows`, offset);
  const streams: ProgramStreamMap["streams"] = [];
  while (p + ES_ENTRY_FIXED <= mapEnd) {
    const infoLen = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    streams.push({ streamType: bytes[p]!, streamId: bytes[p + 1]! });
    p += ES_ENTRY_FIXED + infoLen;
  }
  if (p !== mapEnd) fail("ERR_PSM_LENGTH", "an elementary_stream_info_length overflows the map", offset);
  return { offset, length: end - offset, version, streams };
}
