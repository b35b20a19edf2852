/** @module A send that failed for a reason with its own summary code (session_ended, source_changed, ...). */

export class SendFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SendFailure";
  }
}
