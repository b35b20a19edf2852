/** @module The one typed error every control-node route throws; Hono's onError turns it into status + stable code. */
import type { ErrorCode } from "../protocol/api-types.ts";

/** An API refusal: HTTP status, a stable code from protocol/api-types.ts, and a message that says what and why. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503 | 507,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** 400 bad_request naming the offending field. */
export function badRequest(field: string, why: string): ApiError {
  return new ApiError(400, "bad_request", `Invalid field '${field}': ${why}`);
}
