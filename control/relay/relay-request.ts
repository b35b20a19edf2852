/** @module Reading the relay routes' requests (JSON body, path id, offset) and the transfer's answer shape; refusals are ApiErrors. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";
import type { SpoolEntry } from "../spool/spool-store.ts";

/** JSON bodies on these routes are small; anything larger is refused before parsing. */
const MAX_JSON_BYTES = 16 * 1024;
const OFFSET = /^(0|[1-9]\d{0,15})$/;

/** A transfer as the API shows it (GET /transfers/:id, POST answers). */
export function transferInfo(e: SpoolEntry) {
  return {
    id: e.id,
    session: e.sessionId,
    kind: e.kind,
    size: e.size,
    received: e.received,
    complete: e.complete,
    label: e.label,
    sender: e.senderId,
    recipient: e.recipientId,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
  };
}

/** A small JSON object body; 413 above MAX_JSON_BYTES (declared or actual), 400 for anything not an object. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const len = Number(c.req.header("content-length") ?? "0");
  if (len > MAX_JSON_BYTES)
    throw new ApiError(413, "body_too_large", `JSON body exceeds ${MAX_JSON_BYTES} bytes`);
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES)
    throw new ApiError(413, "body_too_large", `JSON body exceeds ${MAX_JSON_BYTES} bytes`);
  let v: unknown;
  try {
    v = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_request", "Body is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ApiError(400, "bad_request", "Body is not a JSON object");
  }
  return v as Record<string, unknown>;
}

export function positiveInt(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new ApiError(400, "bad_request", `Invalid field '${field}': must be a positive integer`);
  }
  return v;
}

/** What the spool's ids look like (spool-store.ts draws them); anything else names no transfer. */
const TRANSFER_ID = /^tr_[A-Za-z0-9_-]{1,64}$/;

/** The :id path parameter; one that cannot be a transfer id is 404 before it reaches the store (NUL, say). */
export function idOf(c: Context): string {
  const id = c.req.param("id");
  if (!id || !TRANSFER_ID.test(id)) throw new ApiError(404, "transfer_not_found", "No such transfer id");
  return id;
}

/** The ?offset= query of an upload or download: a non-negative safe integer, 0 when absent. */
export function offsetParam(c: Context): number {
  const raw = c.req.query("offset") ?? "0";
  if (!OFFSET.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new ApiError(400, "bad_request", "Invalid query 'offset': must be a non-negative integer");
  }
  return Number(raw);
}
