/** @module The one typed error every control-node route throws; Hono's onError turns it into status + stable code. */
import type { ErrorCode } from "../../protocol/api-types.ts";

/** The HTTP statuses a refusal may carry. */
export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503 | 507;

export interface ApiErrorOptions {
  /** Extra fields of the error body beside code and message, e.g. the offset a relay upload must resume at. */
  details?: Record<string, unknown>;
}

/**
 * An API refusal: HTTP status, a stable code from protocol/api-types.ts, a message that says what and why, and
 * optional details. The node's onError renders it as `{"error":{...details, code, message}}`.
 */
export class ApiError extends Error {
  readonly details: Record<string, unknown>;
  constructor(
    readonly status: ApiErrorStatus,
    readonly code: ErrorCode,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.details = options.details ?? {};
  }

  /** The JSON error body: details first, so they can never override the code or the message. */
  body(): { error: Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** 400 bad_request naming the offending field. */
export function badRequest(field: string, why: string): ApiError {
  return new ApiError(400, "bad_request", `Invalid field '${field}': ${why}`);
}
