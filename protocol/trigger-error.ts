/** @module Trigger datagram errors: a built-in by each stable code's meaning (docs/protocol.md, triggers). */
import { type CodedError, ErrorFamily } from "../errors/coded-error.ts";

/** The four stable codes a refused trigger or ACK carries. */
export type TriggerErrorCode =
  | "ERR_TRIGGER_MALFORMED"
  | "ERR_TRIGGER_BAD_TAG"
  | "ERR_TRIGGER_STALE"
  | "ERR_TRIGGER_WRONG_DEVICE";

/**
 * The trigger error family: `e instanceof TriggerError` recognises every error triggerError() makes.
 * ERR_TRIGGER_MALFORMED (layout, version, body) and ERR_TRIGGER_BAD_TAG (the HMAC does not verify) are
 * SyntaxErrors.
 */
export abstract class TriggerError extends ErrorFamily {
  static override readonly family = "Trigger";
  /** A timestamp outside the receiver's window. */
  static override readonly rangeCodes: ReadonlySet<string> = new Set(["ERR_TRIGGER_STALE"]);
  /** An authentic datagram addressed to another device. */
  static override readonly typeCodes: ReadonlySet<string> = new Set(["ERR_TRIGGER_WRONG_DEVICE"]);
}

/** The trigger error for `code`, its built-in chosen by the code's meaning. */
export function triggerError(code: TriggerErrorCode, message: string): CodedError {
  return TriggerError.make(code, message);
}
