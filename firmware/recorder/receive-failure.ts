/** @module Why a receive failed, as the short stable code a RECEIPT, the inbox and the log carry. */

/** A stable, short failure code for RECEIPT {code} and the inbox report (direct-message CODE: [a-z0-9_]). */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string") {
    if (code === "ERR_DECRYPT") return "decrypt_failed";
    if (
      code.startsWith("ERR_SPLIT_") ||
      code.startsWith("ERR_PATTERN_") ||
      code === "ERR_RELAY_INTEGRITY" ||
      code === "ERR_LIBRARY_SHA256_MISMATCH"
    )
      return "integrity_failed";
    if (code === "ERR_RELAY_TRUNCATED" || code === "ERR_DIRECT_TRUNCATED") return "truncated";
    if (code === "ERR_RELAY_PROTOCOL" || code === "ERR_DIRECT_PROTOCOL") return "protocol_error";
    if (code === "ERR_DIRECT_CLOSED" || code === "ABORT_ERR") return "ended";
    if (code === "ERR_DIRECT_EXPIRED") return "expired";
    if (code === "ERR_RELAY_UNREACHABLE") return "node_unreachable";
  }
  if ((err as Error)?.name === "AbortError") return "ended";
  return "receive_failed";
}

/** A receive that failed for a reason with its own RECEIPT code. */
export class ReceiveFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ReceiveFailure";
  }
}
