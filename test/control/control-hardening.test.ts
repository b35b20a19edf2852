/** @module Integration: malformed input on every route, forged/stale/replayed requests and UDP garbage against the real node process. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const MAX_BODY = 4096;
let node: NodeProcess;
let api: ControlClient;
let sessionId: string;

beforeAll(async () => {
  node = await startNode({
    config: { rateLimitPerSec: 10000, rateLimitBurst: 10000, maxBodyBytes: MAX_BODY, triggerDeadlineMs: 500 },
  });
  const a = await node.enroll("hard-a");
  const b = await node.enroll("hard-b");
  api = node.client(a);
  const bApi = node.client(b);
  await bApi.updateAllowList({ create: ["hard-a"] });
  await bApi.register("127.0.0.1", 1);
  await using agent = await DeviceAgent.start(b, node.udp);
  await agent.keepalive();
  const r = await api.query("hard-b");
  if (r.status !== 200) throw new Error("setup: expected a session");
  sessionId = r.session.id;
});
afterAll(async () => {
  await node?.[Symbol.asyncDispose]();
});

async function codeOf(res: Response): Promise<string> {
  const text = await res.text();
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code).toBe("string");
  expect(typeof body.error?.message).toBe("string");
  return `${res.status} ${body.error!.code}`;
}

// Bodies that are wrong for every JSON route: not JSON, not an object, unknown fields.
const ALWAYS_BAD = ["{", "[]", "null", "42", '"text"', "{'a':1}", '{"zzz":1}', "\u0000", "{}}"];

// Route-specific wrong types and values; each must be a 400 bad_request that names the field.
const ROUTES: Array<{ method: string; path: () => string; bad: unknown[] }> = [
  {
    method: "PUT",
    path: () => "/v1/registration",
    bad: [
      {},
      { address: 1, port: 1 },
      { address: "1.2.3.4" },
      { address: "1.2.3.4", port: 0 },
      { address: "1.2.3.4", port: 65536 },
      { address: "1.2.3.4", port: 1.5 },
      { address: "host.example", port: 1 },
      { address: "1.2.3.4", port: "80" },
    ],
  },
  {
    method: "PUT",
    path: () => "/v1/allow-list",
    bad: [
      {},
      { add: "x" },
      { add: [1] },
      { create: null },
      { delete: [{}] },
      { add: ["bad name"] },
      { add: ["@"] },
      { add: ["x".repeat(65)] },
    ],
  },
  { method: "PUT", path: () => "/v1/policy", bad: [{}, { policy: "both" }, { policy: 1 }, { policy: null }] },
  {
    method: "PUT",
    path: () => "/v1/identity",
    bad: [
      {},
      { publicKey: 1 },
      { publicKey: "" },
      { publicKey: "A".repeat(42) }, // 31 bytes
      { publicKey: "A".repeat(44) }, // 33 bytes
      { publicKey: "a+b/".repeat(11) },
      { publicKey: "A".repeat(43), extra: 1 },
    ],
  },
  {
    method: "POST",
    path: () => "/v1/groups",
    bad: [{}, { name: 1 }, { name: "" }, { name: "with space" }, { name: "@x" }],
  },
  {
    method: "PUT",
    path: () => "/v1/groups/nogroup/members",
    bad: [{}, { add: "x" }, { add: [1] }, { delete: ["a b"] }],
  },
  {
    method: "POST",
    path: () => "/v1/query",
    bad: [{}, { callee: 1 }, { callee: "" }, { callee: "x".repeat(65) }, { callee: "x", storeIfBusy: "yes" }],
  },
  { method: "POST", path: () => `/v1/sessions/${sessionId}/extend`, bad: [{ extra: 1 }] },
  {
    method: "POST",
    path: () => `/v1/sessions/${sessionId}/end`,
    bad: [
      {},
      { reason: 1 },
      { reason: "" },
      { reason: "x", bytesDirect: -1 },
      { reason: "x", bytesRelay: 1.5 },
      { reason: "x", bytesDirect: "1" },
      { reason: "x", directPath: "carrier-pigeon" },
      { reason: "x", directPath: 1 },
    ],
  },
];

describe("malformed input on every route", () => {
  for (const r of ROUTES) {
    test(`${r.method} ${r.path().replace(/ses_[^/]+/, ":id")} rejects malformed bodies with 400 bad_request`, async () => {
      const bodies = [...ALWAYS_BAD, ...r.bad.map((b) => JSON.stringify(b))];
      for (const body of bodies) {
        const res = await api.raw(r.method, r.path(), body);
        expect(`${JSON.stringify(body)} -> ${await codeOf(res)}`).toBe(
          `${JSON.stringify(body)} -> 400 bad_request`,
        );
      }
    });

    test(`${r.method} ${r.path().replace(/ses_[^/]+/, ":id")} rejects an oversized body with 413 body_too_large`, async () => {
      const res = await api.raw(r.method, r.path(), JSON.stringify({ pad: "x".repeat(MAX_BODY) }));
      expect(await codeOf(res)).toBe("413 body_too_large");
    });
  }

  const unauth: Array<[string, string, string]> = [
    ["POST", "/v1/enroll", "{"],
    ["POST", "/v1/enroll", "{}"],
    ["POST", "/v1/enroll", '{"token":1,"name":"x"}'],
    ["POST", "/v1/enroll", '{"token":"enr_x","name":"bad name"}'],
  ];
  for (const [method, path, body] of unauth) {
    test(`${method} ${path} rejects ${body} with 400 bad_request`, async () => {
      const res = await node.fetch(`${node.baseUrl}${path}`, { method, body });
      expect(await codeOf(res)).toBe("400 bad_request");
    });
  }

  const admin: Array<[string, string, string]> = [
    ["POST", "/admin/devices", "{"],
    ["POST", "/admin/devices", '{"name":3}'],
    ["POST", "/admin/enrollment-tokens", '{"ttlSec":-1}'],
    ["POST", "/admin/enrollment-tokens", '{"ttlSec":"1"}'],
    ["POST", "/admin/sessions/ses_x/end", '{"reason":1}'],
    ["GET", "/admin/accounting?from=yesterday", ""],
    ["GET", "/admin/sessions?state=sleeping", ""],
  ];
  for (const [method, path, body] of admin) {
    test(`${method} ${path} rejects ${body || "its query"} with 400 bad_request`, async () => {
      const res = await node.admin.raw(method, path, body || undefined);
      expect(await codeOf(res)).toBe("400 bad_request");
    });
  }

  test("unknown routes and methods answer 404 not_found in the error shape", async () => {
    expect(await codeOf(await api.raw("GET", "/v1/nothing-here"))).toBe("404 not_found");
    expect(await codeOf(await node.fetch(`${node.baseUrl}/nothing`))).toBe("404 not_found");
  });

  test("fuzz: random bytes on every JSON route never give 2xx or 5xx", async () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 120; i++) {
      const r = ROUTES[i % ROUTES.length]!;
      const bytes = new Uint8Array(Math.floor(rnd() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.5 && bytes.length > 0) bytes[0] = 0x7b; // "{": reach the JSON parser more often
      const res = await api.raw(r.method, r.path(), bytes);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      await codeOf(res);
    }
  });
});

describe("forged, stale and replayed requests over HTTP", () => {
  test("each gets its 401 code", async () => {
    const now = Date.now();
    const cases: Array<[string, Promise<Response>]> = [
      ["stale_request", api.raw("GET", "/v1/allow-list", undefined, { now: now - 120_000 })],
      ["stale_request", api.raw("GET", "/v1/allow-list", undefined, { now: now + 120_000 })],
      [
        "bad_signature",
        api.raw("GET", "/v1/allow-list", undefined, { headers: { "x-pvrlink-signature": "AAAA" } }),
      ],
      [
        "unknown_device",
        api.raw("GET", "/v1/allow-list", undefined, { headers: { "x-pvrlink-device": "dev_nobody" } }),
      ],
      [
        "bad_signature",
        api.raw("GET", "/v1/allow-list", undefined, { headers: { "x-pvrlink-nonce": "short" } }),
      ],
    ];
    for (const [want, res] of cases) expect(await codeOf(await res)).toBe(`401 ${want}`);
    const nonce = "nonce-used-twice-000000";
    expect((await api.raw("GET", "/v1/allow-list", undefined, { nonce })).status).toBe(200);
    expect(await codeOf(await api.raw("GET", "/v1/allow-list", undefined, { nonce }))).toBe(
      "401 replayed_request",
    );
  });
});

describe("UDP garbage", () => {
  test("random and corrupted datagrams neither crash the node nor register anything", async () => {
    const sock = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      let seed = 99;
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      for (let i = 0; i < 300; i++) {
        const b = new Uint8Array(Math.floor(rnd() * 200));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
        if (i % 3 === 0 && b.length >= 8) b.set([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]); // STUN-looking
        if (i % 3 === 1 && b.length >= 4) b.set([0x50, 0x56, 0x54, 0x47]); // trigger magic
        sock.send(b, node.udp.port, node.udp.host);
      }
    } finally {
      sock.close();
    }
    // Still alive on both sockets: a real keepalive is answered and HTTP works.
    const cred = await node.enroll("hard-after-garbage");
    await using agent = await DeviceAgent.start(cred, node.udp);
    expect((await agent.keepalive()).port).toBe(agent.port);
    expect((await node.client(cred).allowList()).policy).toBe("node");
    expect(node.proc.exitCode).toBeNull();
  });
});

test("ControlApiError carries status and code", async () => {
  try {
    await api.query("nobody-at-all");
    throw new Error("expected a refusal");
  } catch (err) {
    expect(err).toBeInstanceOf(ControlApiError);
    expect((err as ControlApiError).code).toBe("permission_denied");
  }
});
