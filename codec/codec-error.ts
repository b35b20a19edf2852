/** @module The codec's errors: a built-in by each stable code's meaning, with the byte offset it is about. */
import { type CodedError, ErrorFamily, inFamily } from "../errors/coded-error.ts";

/**
 * The codec's error family: `e instanceof CodecError` recognises every error codecError() makes. Strict entry
 * points throw them; the streaming indexers never throw on bad input, they record an IndexError and resync.
 */
export abstract class CodecError extends ErrorFamily {
  static override readonly family = "Codec";
  /** Codes for data that ends early, or a length, count or value out of its range: RangeError. */
  static override readonly rangeCodes: ReadonlySet<string> = new Set([
    "ERR_BITS_EXHAUSTED",
    "ERR_EXP_GOLOMB",
    "ERR_GOP_TIME_CODE",
    "ERR_GOP_TRUNCATED",
    "ERR_H264_PPS",
    "ERR_H264_SLICE_HEADER",
    "ERR_H264_SPS",
    "ERR_PATTERN_HASH",
    "ERR_PATTERN_HEADER_LENGTH",
    "ERR_PATTERN_LENGTH",
    "ERR_PATTERN_RANGES",
    "ERR_PATTERN_SALT",
    "ERR_PATTERN_SEGMENT_LENGTH",
    "ERR_PATTERN_TRUNCATED",
    "ERR_PES_LENGTH",
    "ERR_PES_TRUNCATED",
    "ERR_PICTURE_EXTENSION_TRUNCATED",
    "ERR_PICTURE_EXTRA",
    "ERR_PICTURE_TRUNCATED",
    "ERR_PS_TRUNCATED",
    "ERR_PSI_SECTION_LENGTH",
    "ERR_PSI_TRUNCATED",
    "ERR_PSM_LENGTH",
    "ERR_PSM_TRUNCATED",
    "ERR_SEQUENCE_EXTENSION_TRUNCATED",
    "ERR_SEQUENCE_TRUNCATED",
    "ERR_SPLIT_HASH",
    "ERR_SPLIT_HEADER_LENGTH",
    "ERR_SPLIT_LENGTH",
    "ERR_SPLIT_RANGES",
    "ERR_SPLIT_TRUNCATED",
    "ERR_TS_ADAPTATION_FIELD",
    "ERR_TS_TRUNCATED",
  ]);
  /**
   * Codes for well-formed input of the wrong kind (a direct part where the protected one belongs, an audio stream
   * on the video PID, a header parser pointed at another header): TypeError. Every other code is a SyntaxError.
   */
  static override readonly typeCodes: ReadonlySet<string> = new Set([
    "ERR_EXTENSION_ID",
    "ERR_PATTERN_PAIR",
    "ERR_PES_STREAM_ID",
    "ERR_SPLIT_PAIR",
    "ERR_START_CODE",
  ]);

  /** Stable: docs/protocol.md, docs/split-format.md and the CLI's output name these. */
  declare readonly code: string;
  /** Byte offset in the input the error is about. */
  declare readonly offset: number;

  /** Narrows to what codecError() makes: a codec error always has its offset. */
  static override [Symbol.hasInstance](e: unknown): e is CodedError & CodecError {
    return inFamily(e, CodecError.family);
  }
}

/** The codec error for `code` at byte `offset`, its built-in chosen by the code's meaning. */
export function codecError(code: string, message: string, offset: number): CodedError & CodecError {
  return CodecError.make(code, message, offset) as CodedError & CodecError;
}
