/** @module The idempotency key of a call that creates something (POST /v1/transfers, QUERY): from the signed body's `idempotencyKey`, or the `Idempotency-Key` header. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";

/** What a client draws once per call and repeats on each retry (docs/protocol.md "Idempotency keys"). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * The call's key, bound by the caller to its own device (the node keys it by the signing device); null when
 * neither is given, 400 bad_request when malformed or when header and field disagree. The field is covered by
 * the request signature; the header is taken for clients that cannot put it in the body.
 */
export function idempotencyKeyOf(c: Context, body: Record<string, unknown>): string | null {
  const header = c.req.header("idempotency-key");
  const field = body.idempotencyKey;
  if (field !== undefined && (typeof field !== "string" || !IDEMPOTENCY_KEY.test(field)))
    throw new ApiError(
      400,
      "bad_request",
      "Invalid field 'idempotencyKey': must be 8-128 of A-Z a-z 0-9 _ -",
    );
  if (header !== undefined && !IDEMPOTENCY_KEY.test(header))
    throw new ApiError(
      400,
      "bad_request",
      "Invalid header 'Idempotency-Key': must be 8-128 of A-Z a-z 0-9 _ -",
    );
  if (header !== undefined && field !== undefined && header !== field)
    throw new ApiError(400, "bad_request", "Header 'Idempotency-Key' and field 'idempotencyKey' differ");
  return (field as string | undefined) ?? header ?? null;
}
