/** @module Reading request bodies under a size limit and checking untrusted JSON field by field, so a 400 names the field. */
import { isIP } from "node:net";
import { ApiError, badRequest } from "../errors/api-error.ts";

/** Reads at most limit bytes of a body stream; 413 body_too_large beyond, without buffering the excess. */
export async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new ApiError(413, "body_too_large", `Body of ${declared} bytes is above the ${limit}-byte limit`);
  }
  if (!req.body) return new Uint8Array(0);
  if (declared !== null) {
    // A declared length bounds the body (HTTP framing; checked above), so it is read whole, without the
    // per-chunk stream reads; the size is checked again for a Request built in-process with a wrong header.
    const whole = new Uint8Array(await req.arrayBuffer());
    if (whole.byteLength > limit)
      throw new ApiError(413, "body_too_large", `Body is above the ${limit}-byte limit`);
    return whole;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new ApiError(413, "body_too_large", `Body is above the ${limit}-byte limit`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

export type JsonObject = Record<string, unknown>;

/** Parses a body that must be a JSON object; an empty body counts as {} for routes without fields. */
export function parseJsonObject(bytes: Uint8Array, emptyAllowed = false): JsonObject {
  if (bytes.byteLength === 0 && emptyAllowed) return {};
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ApiError(400, "bad_request", `Body is not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw badRequest("body", "must be a JSON object");
  return v as JsonObject;
}

/** Rejects fields the route does not know, so a typo ("delet") is an error rather than a silent no-op. */
export function onlyFields(o: JsonObject, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw badRequest(k, "unknown field");
}

export function reqString(o: JsonObject, field: string, maxLen = 256): string {
  const v = o[field];
  if (typeof v !== "string") throw badRequest(field, "must be a string");
  if (v.length === 0 || v.length > maxLen) throw badRequest(field, `must be 1-${maxLen} characters`);
  return v;
}

export function optString(o: JsonObject, field: string, maxLen = 256): string | undefined {
  return o[field] === undefined ? undefined : reqString(o, field, maxLen);
}

/** An inclusive integer range a field must fall in. */
export interface IntRange {
  min: number;
  max: number;
}

export function reqInt(o: JsonObject, field: string, { min, max }: IntRange): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isInteger(v)) throw badRequest(field, "must be an integer");
  if (v < min || v > max) throw badRequest(field, `must be between ${min} and ${max}`);
  return v;
}

export function optInt(o: JsonObject, field: string, range: IntRange): number | undefined {
  return o[field] === undefined ? undefined : reqInt(o, field, range);
}

export function optBool(o: JsonObject, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw badRequest(field, "must be true or false");
  return v;
}

export function optStringArray(o: JsonObject, field: string, maxItems: number): string[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw badRequest(field, "must be an array of strings");
  if (v.length > maxItems) throw badRequest(field, `must have at most ${maxItems} items`);
  v.forEach((x, i) => {
    if (typeof x !== "string") throw badRequest(`${field}[${i}]`, "must be a string");
  });
  return v as string[];
}

/** An IPv4 dotted quad or an IPv6 address as text; host names are not addresses (no DNS on this path). */
export function reqAddress(o: JsonObject, field: string): string {
  const v = reqString(o, field, 64);
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const v6 = /^[0-9A-Fa-f:.]{2,45}$/;
  // isIP: the character classes alone let ":::::::::" through (issue 21 item 9).
  if (!v4.test(v) && !(v.includes(":") && v6.test(v) && isIP(v) === 6))
    throw badRequest(field, "must be an IPv4 or IPv6 address");
  return v;
}
