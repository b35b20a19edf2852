/**
 * @module Every stable error code the MPEG video ES code produces, with its meaning: the list docs and scripts
 * that read `inspect --json` errors can rely on. Parsers throw these in CodecError; VideoIndexer records them.
 */
export const VIDEO_ES_ERROR_CODES = {
  ERR_START_CODE: "a parser was pointed at bytes that are not the start code it parses",
  ERR_SEQUENCE_TRUNCATED: "sequence header (or its quantiser matrices) cut short",
  ERR_SEQUENCE_SIZE: "horizontal or vertical size of 0",
  ERR_SEQUENCE_ASPECT: "aspect_ratio_information 0 (forbidden) or 15 (reserved)",
  ERR_SEQUENCE_FRAME_RATE: "frame_rate_code 0 (forbidden) or 9-15 (reserved)",
  ERR_SEQUENCE_BIT_RATE: "bit_rate_value 0",
  ERR_SEQUENCE_MARKER: "sequence header marker bit is 0",
  ERR_SEQUENCE_MATRIX: "a quantiser matrix entry is 0",
  ERR_SEQUENCE_EXTENSION_TRUNCATED: "sequence extension cut short",
  ERR_SEQUENCE_EXTENSION_CHROMA: "chroma_format 0 (reserved)",
  ERR_SEQUENCE_EXTENSION_MARKER: "sequence extension marker bit is 0",
  ERR_EXTENSION_ID: "extension_start_code_identifier is not the one the parser expects",
  ERR_GOP_TRUNCATED: "GOP header cut short",
  ERR_GOP_MARKER: "time_code marker bit is 0",
  ERR_GOP_TIME_CODE: "time_code field out of range",
  ERR_PICTURE_TRUNCATED: "picture header cut short (kept as an I-picture if its type still reads 1)",
  ERR_PICTURE_TYPE: "picture_coding_type 0 (forbidden) or 5-7 (reserved): the picture is not indexed",
  ERR_PICTURE_F_CODE: "an f_code of 0",
  ERR_PICTURE_EXTRA: "more than 256 extra_information_picture bytes",
  ERR_PICTURE_EXTENSION_TRUNCATED: "picture coding extension cut short",
  ERR_PICTURE_STRUCTURE: "picture_structure 0 (reserved): the picture is indexed as a frame",
  ERR_PICTURE_EXTENSION_MISSING: "an MPEG-2 picture header without its picture coding extension",
  ERR_PICTURE_EMPTY: "a picture with no slice data",
  ERR_FIELD_UNPAIRED: "a field picture without a matching second field",
  ERR_ES_LEADING_BYTES:
    "bytes before the first start code (a stream joined mid-way); they belong to no picture",
  ERR_ES_NO_SEQUENCE_HEADER: "pictures before any sequence header (a stream joined mid-way)",
  ERR_ES_NO_START_CODE: "no start code at all: not an MPEG video stream",
  ERR_ES_ORPHAN_SLICE:
    "slice data outside any picture (after a damaged picture header); it belongs to no picture",
  ERR_ES_RESERVED_START_CODE: "reserved start code 0xB0, 0xB1 or 0xB6",
  ERR_ES_SYSTEM_START_CODE: "system start code 0xB9-0xFF inside a video elementary stream",
  ERR_ES_SEQUENCE_ERROR: "sequence_error_code 0xB4 (the encoder or transport flagged lost data)",
  ERR_ES_TRUNCATED: "the stream ends inside a start code",
  ERR_ES_TOO_MANY_ERRORS: "more than MAX_INDEX_ERRORS problems; the rest are counted, not listed",
} as const;

export type VideoEsErrorCode = keyof typeof VIDEO_ES_ERROR_CODES;
