/** @module PSI section, PAT and PMT parsers (ISO/IEC 13818-1 2.4.4). */

import { codecError } from "../codec-error.ts";
import { crc32Mpeg } from "./mpeg-crc32.ts";

/** table_id values, ISO/IEC 13818-1 Table 2-31. */
export const TABLE_ID_PAT = 0x00;
export const TABLE_ID_PMT = 0x02;
/** table_id 0xFF marks stuffing after the last section in a packet, ISO/IEC 13818-1 2.4.4.1. */
export const TABLE_ID_STUFFING = 0xff;
/** table_id, flags + section_length. */
export const SECTION_HEADER_LENGTH = 3;
/** section_length of PAT and PMT sections is at most 1021 (0x3FD), ISO/IEC 13818-1 2.4.4.5 and 2.4.4.10. */
export const MAX_PSI_SECTION_LENGTH = 0x3fd;
/** Private sections may reach 4093 bytes after section_length, ISO/IEC 13818-1 2.4.4.11. */
export const MAX_PRIVATE_SECTION_LENGTH = 0xffd;
/** table_id_extension, version/current_next, section_number, last_section_number. */
const LONG_HEADER_REST = 5;
const CRC_LENGTH = 4;
/** stream_type values, ISO/IEC 13818-1 Table 2-34. */
export const STREAM_TYPE_MPEG1_VIDEO = 0x01;
export const STREAM_TYPE_MPEG2_VIDEO = 0x02;
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_HEVC = 0x24;

export interface PsiSection {
  offset: number;
  tableId: number;
  /** Bytes of the whole section (3 + section_length). */
  length: number;
  tableIdExtension: number;
  version: number;
  currentNext: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
  /** The bytes between last_section_number and CRC_32 (a view). */
  body: Uint8Array;
  /** Offset of `body` in the parsed buffer. */
  bodyOffset: number;
}

export interface PatProgram {
  programNumber: number;
  /** program_map_PID, or network_PID when programNumber is 0. */
  pid: number;
}

export interface PmtStream {
  streamType: number;
  pid: number;
}

export interface Pmt {
  programNumber: number;
  pcrPid: number;
  streams: PmtStream[];
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot parse PSI section: ${message}`, offset);
}

/** Bytes the section at `offset` occupies, from its section_length, or -1 when fewer than 3 bytes are there. */
export function psiSectionLength(bytes: Uint8Array, offset: number): number {
  if (bytes.length - offset < SECTION_HEADER_LENGTH) return -1;
  return SECTION_HEADER_LENGTH + (((bytes[offset + 1]! & 0x0f) << 8) | bytes[offset + 2]!);
}

/**
 * Parses a long-form section (section_syntax_indicator 1) at `offset` and checks its CRC_32.
 * Throws CodecError ERR_PSI_TRUNCATED, ERR_PSI_SECTION_LENGTH, ERR_PSI_SYNTAX or ERR_PSI_CRC.
 */
export function parsePsiSection(bytes: Uint8Array, offset: number): PsiSection {
  const length = psiSectionLength(bytes, offset);
  if (length < 0) fail("ERR_PSI_TRUNCATED", `${bytes.length - offset} bytes are below 3`, offset);
  const tableId = bytes[offset]!;
  if (!(bytes[offset + 1]! & 0x80))
    fail("ERR_PSI_SYNTAX", `table_id 0x${tableId.toString(16)} is not long-form`, offset);
  const sectionLength = length - SECTION_HEADER_LENGTH;
  const max =
    tableId === TABLE_ID_PAT || tableId === TABLE_ID_PMT
      ? MAX_PSI_SECTION_LENGTH
      : MAX_PRIVATE_SECTION_LENGTH;
  if (sectionLength > max || sectionLength < LONG_HEADER_REST + CRC_LENGTH) {
    fail("ERR_PSI_SECTION_LENGTH", `section_length ${sectionLength} is outside 9..${max}`, offset);
  }
  if (offset + length > bytes.length)
    fail("ERR_PSI_TRUNCATED", `section_length ${sectionLength} runs past the data`, offset);
  if (crc32Mpeg(bytes, offset, offset + length) !== 0) fail("ERR_PSI_CRC", "CRC_32 does not match", offset);
  const b5 = bytes[offset + 5]!;
  const bodyOffset = offset + SECTION_HEADER_LENGTH + LONG_HEADER_REST;
  return {
    offset,
    tableId,
    length,
    tableIdExtension: (bytes[offset + 3]! << 8) | bytes[offset + 4]!,
    version: (b5 >> 1) & 0x1f,
    currentNext: (b5 & 0x01) !== 0,
    sectionNumber: bytes[offset + 6]!,
    lastSectionNumber: bytes[offset + 7]!,
    body: bytes.subarray(bodyOffset, offset + length - CRC_LENGTH),
    bodyOffset,
  };
}

/** The programs of a program_association_section, ISO/IEC 13818-1 2.4.4.3. */
export function parsePat(section: PsiSection): PatProgram[] {
  if (section.tableId !== TABLE_ID_PAT)
    fail("ERR_PSI_SYNTAX", `table_id ${section.tableId} is not a PAT`, section.offset);
  const b = section.body;
  if (b.length % 4 !== 0)
    fail("ERR_PSI_SECTION_LENGTH", `PAT body of ${b.length} bytes is not whole entries`, section.offset);
  const programs: PatProgram[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) {
    programs.push({ programNumber: (b[i]! << 8) | b[i + 1]!, pid: ((b[i + 2]! & 0x1f) << 8) | b[i + 3]! });
  }
  return programs;
}

/** The elementary streams of a TS_program_map_section, ISO/IEC 13818-1 2.4.4.8. */
export function parsePmt(section: PsiSection): Pmt {
  if (section.tableId !== TABLE_ID_PMT)
    fail("ERR_PSI_SYNTAX", `table_id ${section.tableId} is not a PMT`, section.offset);
  const b = section.body;
  if (b.length < 4) fail("ERR_PSI_SECTION_LENGTH", "PMT body is below 4 bytes", section.offset);
  const pcrPid = ((b[0]! & 0x1f) << 8) | b[1]!;
  const infoLength = ((b[2]! & 0x0f) << 8) | b[3]!;
  let p = 4 + infoLength;
  if (p > b.length)
    fail("ERR_PSI_SECTION_LENGTH", `program_info_length ${infoLength} overflows the section`, section.offset);
  const streams: PmtStream[] = [];
  while (p + 5 <= b.length) {
    const esInfoLength = ((b[p + 3]! & 0x0f) << 8) | b[p + 4]!;
    streams.push({ streamType: b[p]!, pid: ((b[p + 1]! & 0x1f) << 8) | b[p + 2]! });
    p += 5 + esInfoLength;
  }
  if (p !== b.length)
    fail("ERR_PSI_SECTION_LENGTH", "an ES_info_length overflows the section", section.offset);
  return { programNumber: section.tableIdExtension, pcrPid, streams };
}
