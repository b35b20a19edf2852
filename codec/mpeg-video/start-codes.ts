/** @module MPEG-1/2 video start code values (ISO/IEC 13818-2 6.2.1 Table 6-1, ISO/IEC 11172-2 2.4.4). */

/** Every start code is the byte-aligned prefix 00 00 01 followed by one code byte (ISO/IEC 13818-2 5.2.3). */
export const START_CODE_PREFIX_BYTES = 3;
/** Prefix plus the code byte. */
export const START_CODE_BYTES = 4;

export const PICTURE_START_CODE = 0x00; // ISO/IEC 13818-2 6.2.3, Table 6-1
export const SLICE_START_CODE_FIRST = 0x01; // ISO/IEC 13818-2 6.2.4, Table 6-1
export const SLICE_START_CODE_LAST = 0xaf; // ISO/IEC 13818-2 6.2.4, Table 6-1
export const USER_DATA_START_CODE = 0xb2; // ISO/IEC 13818-2 6.2.2.2.2, Table 6-1
export const SEQUENCE_HEADER_CODE = 0xb3; // ISO/IEC 13818-2 6.2.2.1, Table 6-1
export const SEQUENCE_ERROR_CODE = 0xb4; // ISO/IEC 13818-2 6.2.1, Table 6-1
export const EXTENSION_START_CODE = 0xb5; // ISO/IEC 13818-2 6.2.2.2, Table 6-1
export const SEQUENCE_END_CODE = 0xb7; // ISO/IEC 13818-2 6.2.2, Table 6-1
export const GROUP_START_CODE = 0xb8; // ISO/IEC 13818-2 6.2.2.6, Table 6-1
/** 0xB9-0xFF are system start codes (ISO/IEC 13818-1 Table 2-18); they never occur in a video ES. */
export const SYSTEM_START_CODE_FIRST = 0xb9;

/** extension_start_code_identifier values (ISO/IEC 13818-2 6.3.1, Table 6-2). */
export const SEQUENCE_EXTENSION_ID = 0x1;
export const SEQUENCE_DISPLAY_EXTENSION_ID = 0x2;
export const QUANT_MATRIX_EXTENSION_ID = 0x3;
export const COPYRIGHT_EXTENSION_ID = 0x4;
export const SEQUENCE_SCALABLE_EXTENSION_ID = 0x5;
export const PICTURE_DISPLAY_EXTENSION_ID = 0x7;
export const PICTURE_CODING_EXTENSION_ID = 0x8;
export const PICTURE_SPATIAL_SCALABLE_EXTENSION_ID = 0x9;
export const PICTURE_TEMPORAL_SCALABLE_EXTENSION_ID = 0xa;

export function isSliceStartCode(code: number): boolean {
  return code >= SLICE_START_CODE_FIRST && code <= SLICE_START_CODE_LAST;
}

/** True when `bytes[offset..offset+3]` is 00 00 01 `code`. */
export function hasStartCode(bytes: Uint8Array, offset: number, code: number): boolean {
  return (
    offset >= 0 &&
    offset + START_CODE_BYTES <= bytes.length &&
    bytes[offset] === 0 &&
    bytes[offset + 1] === 0 &&
    bytes[offset + 2] === 1 &&
    bytes[offset + 3] === code
  );
}
