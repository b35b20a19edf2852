/** @module A send that failed for a reason with its own summary code (session_ended, source_changed, ...). */
import { DirectChannelError } from "../direct/direct-error.ts";
import { RelayUploadError } from "./relay-upload-error.ts";

export class SendFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SendFailure";
  }
}

/** The summary code a failed send reports for whatever stopped it. */
export function sendFailureCode(failure: unknown): string {
  return failure instanceof SendFailure
    ? failure.code
    : failure instanceof RelayUploadError
      ? "relay_upload_failed"
      : failure instanceof DirectChannelError
        ? failure.code === "ERR_DIRECT_CLOSED" && failure.reason === "ended"
          ? "session_ended"
          : "direct_failed"
        : ((failure as { code?: string }).code ?? "send_failed");
}
