/** @module The relay's typed refusal: HTTP status, stable code, and optional fields (e.g. the held offset). */

/**
 * Thrown by the spool and relay routes. The routes turn it into `{"error":{"code","message",...extra}}` themselves;
 * the node's onError recognises it too (numeric status + string code), so it never becomes a 500.
 */
export class RelayError extends Error {
  readonly status: 400 | 403 | 404 | 409 | 413 | 507;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  constructor(
    status: RelayError["status"],
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "RelayError";
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}
