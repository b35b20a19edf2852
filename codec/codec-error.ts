/** @module The codec's errors: a built-in chosen by meaning, subclassed only to carry a stable code and offset. */

/**
 * Codes whose meaning is "the data ends early" or "a length, count or value is out of its range": thrown as
 * CodecRangeError. One code has one class, so a caller that sorts by class and a caller that sorts by code agree.
 */
const RANGE_CODES: ReadonlySet<string> = new Set([
  "ERR_BITS_EXHAUSTED",
  "ERR_EXP_GOLOMB",
  "ERR_GOP_TIME_CODE",
  "ERR_GOP_TRUNCATED",
  "ERR_H264_SPS",
  "ERR_PATTERN_HASH",
  "ERR_PATTERN_HEADER_LENGTH",
  "ERR_PATTERN_LENGTH",
  "ERR_PATTERN_RANGES",
  "ERR_PATTERN_SALT",
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
 * Codes whose meaning is "well-formed, but the wrong kind of thing here" (a direct part where the protected one
 * belongs, an audio stream on the video PID, a header parser pointed at another header): thrown as CodecTypeError.
 */
const TYPE_CODES: ReadonlySet<string> = new Set([
  "ERR_EXTENSION_ID",
  "ERR_PATTERN_PAIR",
  "ERR_PES_STREAM_ID",
  "ERR_SPLIT_PAIR",
  "ERR_START_CODE",
]);

/** Data that ends early, or a length, count or value outside its range. */
export class CodecRangeError extends RangeError {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "CodecRangeError";
  }
}

/** Bytes that break the format's syntax: a marker bit, a reserved value, a digest or CRC that does not match. */
export class CodecSyntaxError extends SyntaxError {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "CodecSyntaxError";
  }
}

/** Well-formed input of the wrong kind for the call. */
export class CodecTypeError extends TypeError {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "CodecTypeError";
  }
}

/**
 * The one way to recognise a codec error: `e instanceof CodecError` is true for each of the three classes above,
 * and narrows `e` to them. It is never instantiated (throw through codecError()); the fields say what all three
 * carry, whichever built-in they are.
 */
export abstract class CodecError {
  declare readonly name: string;
  declare readonly message: string;
  /** Stable: docs/protocol.md, docs/split-format.md and the CLI's output name these. */
  declare readonly code: string;
  /** Byte offset in the input the error is about. */
  declare readonly offset: number;

  static [Symbol.hasInstance](e: unknown): e is CodecRangeError | CodecSyntaxError | CodecTypeError {
    return e instanceof CodecRangeError || e instanceof CodecSyntaxError || e instanceof CodecTypeError;
  }
}

/**
 * The codec error for `code`, its class chosen by the code's meaning (RANGE_CODES, TYPE_CODES, else syntax).
 * Strict entry points throw it; the streaming indexers never throw on bad input, they record an IndexError.
 */
export function codecError(
  code: string,
  message: string,
  offset: number,
): CodecRangeError | CodecSyntaxError | CodecTypeError {
  if (RANGE_CODES.has(code)) return new CodecRangeError(code, message, offset);
  if (TYPE_CODES.has(code)) return new CodecTypeError(code, message, offset);
  return new CodecSyntaxError(code, message, offset);
}
