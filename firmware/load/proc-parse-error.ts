/** @module The error the /proc parsers throw: a SyntaxError with a stable code. */

/** Malformed /proc content; `code` is stable (ERR_PROC_STAT_*, ERR_PSI_*), the message says what was wrong. */
export class ProcParseError extends SyntaxError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ProcParseError";
  }
}
