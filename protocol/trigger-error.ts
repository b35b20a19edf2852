/** @module Trigger datagram errors: a built-in chosen by the stable code's meaning (docs/protocol.md, triggers). */

/** The four stable codes a refused trigger or ACK carries. */
export type TriggerErrorCode =
  | "ERR_TRIGGER_MALFORMED"
  | "ERR_TRIGGER_BAD_TAG"
  | "ERR_TRIGGER_STALE"
  | "ERR_TRIGGER_WRONG_DEVICE";

/** ERR_TRIGGER_STALE: a timestamp outside the receiver's window. */
export class TriggerRangeError extends RangeError {
  constructor(
    readonly code: TriggerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TriggerRangeError";
  }
}

/** ERR_TRIGGER_MALFORMED (layout, version, body) and ERR_TRIGGER_BAD_TAG (the HMAC does not verify). */
export class TriggerSyntaxError extends SyntaxError {
  constructor(
    readonly code: TriggerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TriggerSyntaxError";
  }
}

/** ERR_TRIGGER_WRONG_DEVICE: an authentic datagram addressed to another device. */
export class TriggerTypeError extends TypeError {
  constructor(
    readonly code: TriggerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TriggerTypeError";
  }
}

/**
 * The one way to recognise a refused datagram: `e instanceof TriggerError` is true for each of the three classes
 * above, and narrows `e` to them. It is never instantiated: throw through triggerError().
 */
export abstract class TriggerError {
  declare readonly name: string;
  declare readonly message: string;
  declare readonly code: TriggerErrorCode;

  static [Symbol.hasInstance](e: unknown): e is TriggerRangeError | TriggerSyntaxError | TriggerTypeError {
    return e instanceof TriggerRangeError || e instanceof TriggerSyntaxError || e instanceof TriggerTypeError;
  }
}

/** The error for `code`, its class chosen by the code's meaning. */
export function triggerError(
  code: TriggerErrorCode,
  message: string,
): TriggerRangeError | TriggerSyntaxError | TriggerTypeError {
  if (code === "ERR_TRIGGER_STALE") return new TriggerRangeError(code, message);
  if (code === "ERR_TRIGGER_WRONG_DEVICE") return new TriggerTypeError(code, message);
  return new TriggerSyntaxError(code, message);
}
