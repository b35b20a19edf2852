/** @module RelayUploadError: a relay upload the node never completed (ERR_RELAY_UPLOAD), with the node's code when it answered. */

/** A relay upload that could not be completed: the node stayed away, or refused the data. Never a silent partial. */
export class RelayUploadError extends Error {
  readonly code = "ERR_RELAY_UPLOAD";
  constructor(
    message: string,
    /** The node's error code when it answered, e.g. transfer_too_large. */
    readonly nodeCode?: string,
  ) {
    super(message);
    this.name = "RelayUploadError";
  }
}
