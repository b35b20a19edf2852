/** @module STUN errors: a built-in by each stable code's meaning (docs/protocol.md, keepalive). */
import { type CodedError, ErrorFamily } from "../errors/coded-error.ts";

/** Codes for a message cut short, or a length or value out of its range: RangeError. */
const RANGE = ["ERR_STUN_ERROR_CODE", "ERR_STUN_INTEGER", "ERR_STUN_LENGTH", "ERR_STUN_TRUNCATED"];
/**
 * Codes for a well-formed message of the wrong kind (not STUN at all, an answer to another request, an error
 * response where a success was asked for): TypeError. Every other code, integrity failures included, is a
 * SyntaxError.
 */
const WRONG_KIND = ["ERR_KEEPALIVE_MISMATCH", "ERR_KEEPALIVE_REJECTED", "ERR_STUN_NOT_STUN"];

/** The STUN error family: `e instanceof StunError` recognises every error stunError() makes. */
export abstract class StunError extends ErrorFamily {
  static override readonly family = "Stun";
  static override readonly rangeCodes: ReadonlySet<string> = new Set(RANGE);
  static override readonly typeCodes: ReadonlySet<string> = new Set(WRONG_KIND);
}

/** The STUN error for `code`, its built-in chosen by the code's meaning. */
export function stunError(code: string, message: string): CodedError {
  return StunError.make(code, message);
}
