/** @module Tests for deviceAuth(): signed requests accepted; stale, replayed, forged, unknown and mismatched ones refused. */
import { beforeEach, describe, expect, test } from "bun:test";
import type { Hono } from "hono";
import { httpKeyFromSecret, signRequest } from "../../protocol/request-signature.ts";
import { createControlApp, createControlContext, NO_TRIGGERS } from "../control-app.ts";
import { DEFAULT_CONFIG } from "../control-config.ts";
import { openControlStore } from "../store/open-control-store.ts";
import type { SqlDriver } from "../store/sql-driver.ts";

let app: Hono;
let dev: { id: string; secret: string };
let store: SqlDriver;

beforeEach(async () => {
  store = await openControlStore(":memory:");
  const ctx = await createControlContext({
    config: { ...DEFAULT_CONFIG, rateLimitPerSec: 0.01, rateLimitBurst: 5, maxBodyBytes: 1024 },
    store,
    adminToken: "admin-token-for-tests",
    spoolDir: "/nonexistent",
    triggers: NO_TRIGGERS,
  });
  dev = await ctx.devices.enroll("me");
  app = createControlApp(ctx);
});

function signed(method: string, path: string, body?: string, o: { now?: number; nonce?: string } = {}) {
  const headers = signRequest({
    deviceId: dev.id,
    httpKey: httpKeyFromSecret(dev.secret),
    method,
    pathAndQuery: path,
    ...(body === undefined ? {} : { body }),
    ...o,
  });
  return { method, headers, ...(body === undefined ? {} : { body }) };
}

async function code(res: Response | Promise<Response>): Promise<string> {
  const r = await res;
  if (r.ok) return String(r.status);
  const b = (await r.json()) as { error: { code: string } };
  return `${r.status} ${b.error.code}`;
}

describe("deviceAuth()", () => {
  test("accepts a correctly signed request", async () => {
    expect(await code(app.request("/v1/allow-list", signed("GET", "/v1/allow-list")))).toBe("200");
  });

  test("rejects stale, replayed, forged, unknown and mismatched requests with their codes", async () => {
    const now = Date.now();
    expect(
      await code(
        app.request("/v1/allow-list", signed("GET", "/v1/allow-list", undefined, { now: now - 61_000 })),
      ),
    ).toBe("401 stale_request");
    expect(
      await code(
        app.request("/v1/allow-list", signed("GET", "/v1/allow-list", undefined, { now: now + 61_000 })),
      ),
    ).toBe("401 stale_request");
    const once = signed("GET", "/v1/allow-list");
    expect(await code(app.request("/v1/allow-list", once))).toBe("200");
    expect(await code(app.request("/v1/allow-list", once))).toBe("401 replayed_request");
    const forged = signed("GET", "/v1/allow-list");
    forged.headers["x-pvrlink-signature"] = signRequest({
      deviceId: dev.id,
      httpKey: httpKeyFromSecret("A".repeat(43)),
      method: "GET",
      pathAndQuery: "/v1/allow-list",
    })["x-pvrlink-signature"]!;
    expect(await code(app.request("/v1/allow-list", forged))).toBe("401 bad_signature");
    const unknown = signed("GET", "/v1/allow-list");
    unknown.headers["x-pvrlink-device"] = "dev_unknown";
    expect(await code(app.request("/v1/allow-list", unknown))).toBe("401 unknown_device");
    // Signed for one path, sent to another.
    expect(await code(app.request("/v1/registration", signed("GET", "/v1/allow-list")))).toBe(
      "401 bad_signature",
    );
    // Body swapped after signing.
    const swapped = { ...signed("PUT", "/v1/allow-list", '{"add":["a"]}'), body: '{"add":["b"]}' };
    expect(await code(app.request("/v1/allow-list", swapped))).toBe("401 bad_signature");
    // UNSIGNED-PAYLOAD outside the streamed data routes.
    const unsigned = signed("PUT", "/v1/allow-list", '{"add":["a"]}');
    unsigned.headers["x-pvrlink-content-sha256"] = "UNSIGNED-PAYLOAD";
    expect(await code(app.request("/v1/allow-list", unsigned))).toBe("401 bad_signature");
    expect(await code(app.request("/v1/allow-list"))).toBe("401 bad_signature");
  });

  test("a rejected forgery does not burn the nonce of a later honest request", async () => {
    const honest = signed("GET", "/v1/allow-list");
    const forged = { ...honest, headers: { ...honest.headers, "x-pvrlink-signature": "AAAA" } };
    expect(await code(app.request("/v1/allow-list", forged))).toBe("401 bad_signature");
    expect(await code(app.request("/v1/allow-list", honest))).toBe("200");
  });

  test("every answer, granted or refused after the nonce was taken, leaves once its nonce is stored", async () => {
    const cases: Array<[string, ReturnType<typeof signed>, string]> = [
      ["/v1/allow-list", signed("GET", "/v1/allow-list"), "200"],
      ["/v1/sessions/ses_unknown", signed("GET", "/v1/sessions/ses_unknown"), "404 session_not_found"],
      ["/v1/query", signed("POST", "/v1/query", '{"callee":"nobody"}'), "403 permission_denied"],
    ];
    for (const [path, req, want] of cases) {
      expect(await code(app.request(path, req))).toBe(want);
      // As a restarted node reads it: the row in the store, not this process's memory.
      const row = await store.get("SELECT 1 AS one FROM nonce_log WHERE device_id = ? AND nonce = ?", [
        dev.id,
        req.headers["x-pvrlink-nonce"]!,
      ]);
      expect(row).toEqual({ one: 1 });
    }
  });

  test("oversized bodies are 413 body_too_large", async () => {
    const big = JSON.stringify({ add: Array.from({ length: 200 }, (_, i) => `name${i}`) });
    expect(await code(app.request("/v1/allow-list", signed("PUT", "/v1/allow-list", big)))).toBe(
      "413 body_too_large",
    );
  });

  test("the per-device bucket answers 429 rate_limited after the burst", async () => {
    const codes: string[] = [];
    for (let i = 0; i < 7; i++)
      codes.push(await code(app.request("/v1/allow-list", signed("GET", "/v1/allow-list"))));
    expect(codes.slice(0, 5)).toEqual(["200", "200", "200", "200", "200"]);
    expect(codes.slice(5)).toEqual(["429 rate_limited", "429 rate_limited"]);
  });

  test("fuzz: random header corruption never yields a 2xx or a 5xx", async () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const junk = () => {
      const n = Math.floor(rnd() * 80);
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(rnd() * 95));
      return s;
    };
    const names = [
      "x-pvrlink-device",
      "x-pvrlink-timestamp",
      "x-pvrlink-nonce",
      "x-pvrlink-content-sha256",
      "x-pvrlink-signature",
    ];
    for (let i = 0; i < 200; i++) {
      const req = signed("PUT", "/v1/allow-list", '{"add":["x"]}');
      const h = names[Math.floor(rnd() * names.length)]!;
      if (rnd() < 0.3) delete req.headers[h];
      else req.headers[h] = junk();
      const res = await app.request("/v1/allow-list", req);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as { error: { code: string } };
      expect(typeof body.error.code).toBe("string");
    }
  });
});
