/** @module Integration: state survives SIGTERM and kill -9 restarts; replay protection and rate limits hold across them. */
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { ControlApiError } from "../../protocol/control-api-error.ts";
import { makeDataDir, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const CONFIG = { rateLimitPerSec: 0.5, rateLimitBurst: 12, triggerDeadlineMs: 800 };

test("restart: devices, lists, groups, registrations, sessions, accounting, admin token and nonces persist", async () => {
  const dataDir = makeDataDir();
  try {
    let a: { id: string; name: string; secret: string };
    let b: { id: string; name: string; secret: string };
    let sessionId: string;
    let token: string;
    const replayNonce = "persisted-nonce-0000000";
    let replayAt: number;
    {
      await using node = await startNode({ dataDir, keepData: true, config: CONFIG });
      token = node.adminToken;
      a = await node.enroll("persist-a");
      b = await node.enroll("persist-b");
      const bApi = node.client(b);
      await bApi.updateAllowList({ create: ["persist-a", "@club"] });
      await bApi.createGroup("club");
      await bApi.updateGroup("club", { add: ["persist-c"] });
      await bApi.register("127.0.0.1", 5555);
      await using agent = await DeviceAgent.start(b, node.udp);
      await agent.keepalive();
      const r = await node.client(a).query("persist-b");
      if (r.status !== 200) throw new Error("expected a session");
      sessionId = r.session.id;
      await node.client(a).end(sessionId, { reason: "done", bytesDirect: 5 });
      replayAt = Date.now();
      expect(
        (await node.client(a).raw("GET", "/v1/allow-list", undefined, { nonce: replayNonce, now: replayAt }))
          .status,
      ).toBe(200);
      expect(await node.stop("SIGTERM")).toBe(0); // graceful: exit code 0
    }
    {
      await using node = await startNode({ dataDir, keepData: true, config: CONFIG });
      expect(node.adminToken).toBe(token);
      const bApi = node.client(b);
      expect(await bApi.allowList()).toEqual({ policy: "node", entries: ["@club", "persist-a"] });
      expect((await bApi.group("club")).members).toEqual(["persist-c"]);
      expect(await bApi.registration()).toMatchObject({ address: "127.0.0.1", port: 5555 });
      expect(await node.client(a).session(sessionId)).toMatchObject({ state: "ended", reason: "done" });
      expect((await node.admin.accounting({ device: a.id })).map((e) => e.reason)).toEqual(["done"]);
      const devices = await node.admin.devices();
      expect(devices.find((d) => d.id === b.id)?.keepalive?.address).toBe("127.0.0.1");
      // The nonce cache is in the database: a request captured before the restart stays a replay.
      const replay = await node
        .client(a)
        .raw("GET", "/v1/allow-list", undefined, { nonce: replayNonce, now: replayAt });
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("replayed_request");

      // kill -9: whatever was acknowledged before is there after.
      await bApi.updateAllowList({ add: ["persist-d"] });
      await node.stop("SIGKILL");
    }
    {
      await using node = await startNode({ dataDir, keepData: true, config: CONFIG });
      expect((await node.client(b).allowList()).entries).toContain("persist-d");
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("rate limiting: a device past its burst gets 429 rate_limited with Retry-After; others are unaffected", async () => {
  await using node = await startNode({ config: CONFIG });
  const a = node.client(await node.enroll("flood-a"));
  const b = node.client(await node.enroll("flood-b"));
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 16; i++) {
    const res = await a.raw("GET", "/v1/allow-list");
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get("retry-after");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    } else await res.arrayBuffer();
  }
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(12);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect((await b.allowList()).policy).toBe("node");
  try {
    for (let i = 0; i < 5; i++) await a.allowList();
    throw new Error("expected 429");
  } catch (err) {
    expect((err as ControlApiError).code).toBe("rate_limited");
  }
});
