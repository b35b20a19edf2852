/** @module The signed-request check every authenticated /v1 route runs first: clock window, device, body hash, HMAC, nonce, rate limit. */
import type { MiddlewareHandler } from "hono";
import { DerivedKeys } from "../../crypto/derived-keys.ts";
import { deriveKey } from "../../crypto/hmac.ts";
import {
  HEADER_CONTENT_SHA256,
  HEADER_DEVICE,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  UNSIGNED_PAYLOAD,
} from "../../protocol/api-types.ts";
import { HTTP_KEY_PURPOSE, sha256Hex, signatureMatches } from "../../protocol/request-signature.ts";
import { ApiError } from "../errors/api-error.ts";
import type { NonceStore } from "../store/nonce-store.ts";
import { readLimited } from "./json-body.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** What authenticated handlers read from the context. */
export type DeviceEnv = { Variables: { deviceId: string; body: Uint8Array } };

export interface DeviceAuthDeps {
  /** The device's secret; may answer at once (a cache hit) or after a store read. */
  secretOf(deviceId: string): Uint8Array | null | Promise<Uint8Array | null>;
  nonces: NonceStore;
  limiter: RateLimiter;
  maxClockSkewMs: number;
  maxBodyBytes: number;
  /** Routes whose bodies may be UNSIGNED-PAYLOAD (streamed, AEAD-sealed end to end). */
  allowsUnsigned(method: string, path: string): boolean;
  now?: () => number;
}

/** HTTP keys kept (one per device); past this the memory starts over. */
const MAX_HTTP_KEYS = 200_000;
const NONCE_SHAPE = /^[A-Za-z0-9_-]{16,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

function unauthorized(code: string, message: string): ApiError {
  return new ApiError(401, code, message);
}

/**
 * Checks, in this order: headers present; timestamp within ±skew (stale_request); device known
 * (unknown_device); body hash matches (bad_signature); HMAC (bad_signature); nonce unseen (replayed_request,
 * recorded only after the HMAC passed, so forgeries cannot fill the cache); then the device's token bucket. The
 * nonce is taken (refused to any copy) before the route runs and stored before the answer leaves.
 */
export function deviceAuth(deps: DeviceAuthDeps): MiddlewareHandler<DeviceEnv> {
  // Derived keys are cached beside the secret they came from, and used only while the device store still
  // returns that same secret: a deleted device (or a new secret) invalidates its key by construction (issue 21
  // item 4). secretOf is itself a cached map read, so the check costs no database query.
  const httpKeys = new DerivedKeys((secret) => deriveKey(secret, HTTP_KEY_PURPOSE), MAX_HTTP_KEYS);
  const keyOf = async (id: string): Promise<Uint8Array | null> => {
    const secret = await deps.secretOf(id);
    if (!secret) {
      httpKeys.forget(id);
      return null;
    }
    return httpKeys.of(id, secret);
  };
  const now = deps.now ?? Date.now;

  return async (c, next) => {
    const h = c.req.raw.headers;
    const deviceId = h.get(HEADER_DEVICE);
    const timestamp = h.get(HEADER_TIMESTAMP);
    const nonce = h.get(HEADER_NONCE);
    const contentSha256 = h.get(HEADER_CONTENT_SHA256);
    const signature = h.get(HEADER_SIGNATURE);
    if (!deviceId || !timestamp || !nonce || !contentSha256 || !signature) {
      throw unauthorized("bad_signature", "Missing one of the x-pvrlink-* authentication headers");
    }
    const t = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!Number.isFinite(t) || Math.abs(now() - t) > deps.maxClockSkewMs) {
      throw unauthorized("stale_request", "Timestamp is outside the accepted clock window");
    }
    if (!NONCE_SHAPE.test(nonce))
      throw unauthorized("bad_signature", "Nonce is not 16-64 base64url characters");
    const key = await keyOf(deviceId);
    if (!key) throw unauthorized("unknown_device", "Unknown device");

    const url = new URL(c.req.url);
    const method = c.req.method;
    if (contentSha256 === UNSIGNED_PAYLOAD) {
      if (!deps.allowsUnsigned(method, url.pathname)) {
        throw unauthorized("bad_signature", "UNSIGNED-PAYLOAD is only accepted on streamed data routes");
      }
    } else {
      if (!HEX64.test(contentSha256))
        throw unauthorized("bad_signature", "Content hash is not lower-case hex SHA-256");
      const body = await readLimited(c.req.raw, deps.maxBodyBytes);
      if (sha256Hex(body) !== contentSha256)
        throw unauthorized("bad_signature", "Body does not match its hash");
      c.set("body", body);
      // Later readers (c.req.json() in other route modules) get the bytes already read.
      // Hono keeps promises in bodyCache at run time although its type says ArrayBuffer.
      (c.req.bodyCache as Record<string, unknown>).arrayBuffer = Promise.resolve(
        body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
      );
    }
    const parts = { method, pathAndQuery: url.pathname + url.search, timestamp, nonce, contentSha256 };
    if (!signatureMatches(key, parts, signature))
      throw unauthorized("bad_signature", "Signature does not verify");
    const claim = await deps.nonces.take(deviceId, nonce, now());
    if (claim === null) throw unauthorized("replayed_request", "This nonce was already used");
    try {
      // A streamed upload may run for minutes: its nonce is stored before the data goes anywhere.
      if (contentSha256 === UNSIGNED_PAYLOAD) await claim.stored();
      if (!deps.limiter.take(deviceId, now())) {
        c.header("retry-after", String(deps.limiter.retryAfterSec(deviceId)));
        throw new ApiError(429, "rate_limited", "Too many requests from this device");
      }
      c.set("deviceId", deviceId);
      await next();
    } finally {
      // No answer leaves before its nonce is stored, so a restart still refuses a request that was answered. The
      // nonce rides in the commit of the route's own write where there is one (a QUERY's session): one commit
      // per request instead of two. A nonce that cannot be stored turns the answer into a 500 (app.onError).
      await claim.stored();
    }
  };
}
