/** @module STUN errors: a built-in chosen by the stable code's meaning (RangeError, SyntaxError, TypeError). */

/** Codes for a message cut short, or a length or value out of its range. */
const RANGE_CODES: ReadonlySet<string> = new Set([
  "ERR_STUN_ERROR_CODE",
  "ERR_STUN_INTEGER",
  "ERR_STUN_LENGTH",
  "ERR_STUN_TRUNCATED",
]);

/**
 * Codes for a well-formed message of the wrong kind: not STUN at all, an answer to another request, or an error
 * response where a success was asked for.
 */
const TYPE_CODES: ReadonlySet<string> = new Set([
  "ERR_KEEPALIVE_MISMATCH",
  "ERR_KEEPALIVE_REJECTED",
  "ERR_STUN_NOT_STUN",
]);

/** A STUN message cut short, or a length or value outside its range. */
export class StunRangeError extends RangeError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StunRangeError";
  }
}

/** A STUN message that breaks RFC 8489's syntax, or whose integrity check fails. */
export class StunSyntaxError extends SyntaxError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StunSyntaxError";
  }
}

/** A well-formed STUN message of the wrong kind for the call. */
export class StunTypeError extends TypeError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StunTypeError";
  }
}

/**
 * The one way to recognise a STUN error: `e instanceof StunError` is true for each of the three classes above,
 * and narrows `e` to them. It is never instantiated: throw through stunError().
 */
export abstract class StunError {
  declare readonly name: string;
  declare readonly message: string;
  /** Stable: docs/protocol.md and the recorder's log name these. */
  declare readonly code: string;

  static [Symbol.hasInstance](e: unknown): e is StunRangeError | StunSyntaxError | StunTypeError {
    return e instanceof StunRangeError || e instanceof StunSyntaxError || e instanceof StunTypeError;
  }
}

/** The STUN error for `code`, its class chosen by the code's meaning (RANGE_CODES, TYPE_CODES, else syntax). */
export function stunError(code: string, message: string): StunRangeError | StunSyntaxError | StunTypeError {
  if (RANGE_CODES.has(code)) return new StunRangeError(code, message);
  if (TYPE_CODES.has(code)) return new StunTypeError(code, message);
  return new StunSyntaxError(code, message);
}
