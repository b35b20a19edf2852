/** @module Attacks (issue 21 items 6 and 7), compiled binary: a stranger floods bob's direct port with made-up session ids, or holds its slots with idle sockets, while alice sends. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { randomBytes, randomToken } from "../../crypto/random-token.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { encodePreamble } from "../../firmware/direct/direct-frame.ts";
import { nodeFetch } from "../../protocol/node-fetch.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

/** GET /v1/sessions/pending requests the real node has answered so far (any status), from its /metrics. */
async function pendingLookupsAtNode(): Promise<number> {
  const res = await nodeFetch({ kind: "pin", pin: cluster.pin })(`${cluster.nodeUrl}/metrics`);
  let n = 0;
  for (const line of (await res.text()).split("\n")) {
    if (line.startsWith("pvrlink_http_request_duration_seconds_count{") && line.includes('route="pending"'))
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return n;
}

beforeAll(async () => {
  // The node's default per-device request bucket (20/s, burst 40): the one the flood used to drain.
  cluster = await startAliceAndBob({ nodeConfig: { rateLimitPerSec: 20, rateLimitBurst: 40 } });
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** Opens a TCP connection to bob's direct port from a given loopback address; resolves once connected. */
function openFrom(localAddress: string): Promise<Socket> {
  const { host, port } = cluster.recorder("bob").direct;
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

test("100 preambles a second with unknown session ids and forged contact tickets make zero lookups at the node, unlogged: alice's send still goes direct, promptly", async () => {
  const bob = cluster.recorder("bob");
  const { host, port } = bob.direct;
  const lookups = () => bob.proc.lines.filter((l) => l.includes("unknown-session-lookup")).length;
  const before = lookups();
  const atNodeBefore = await pendingLookupsAtNode();
  let sent = 0;
  let closedByBob = 0;
  let flooding = true;
  const flood = (async () => {
    for (let i = 0; flooding; i++) {
      const s = connect({ host, port, localAddress: `127.0.${1 + (i % 200)}.${1 + ((i >> 8) % 200)}` });
      s.on("error", () => {});
      s.on("close", () => closedByBob++);
      s.on("connect", () => {
        // A ticket of the right shape and a connectBy in the future: only the node could have made a valid one.
        const contact = { connectBy: Date.now() + 60_000, ticket: randomBytes(32) };
        s.end(encodePreamble({ salt: randomBytes(16), sessionId: `ses_${randomToken(16)}`, contact }));
        sent++;
      });
      await Bun.sleep(10); // about 100 a second
    }
  })();
  try {
    await waitFor("the flood to be in full swing before alice asks", () => sent >= 100, {
      timeoutMs: 10_000,
    });
    // Issue 21 item 6: no forged preamble made bob ask the node anything (each was refused at once), counted
    // by bob and by the node itself; and bob closed them without a log line each.
    await waitFor("bob to close 300 of the flood's connections", () => closedByBob >= 300, {
      timeoutMs: 20_000,
    });
    expect(lookups()).toBe(before);
    expect(await pendingLookupsAtNode()).toBe(atNodeBefore);
    expect(bob.proc.lines.filter((l) => l.includes("ERR_DIRECT_UNKNOWN_SESSION")).length).toBeLessThan(10);
    const started = performance.now();
    const run = await sendToBob(cluster, SAMPLE);
    expect((performance.now() - started) / 1000).toBeLessThan(30);
    // The node's counter is live: bob's fetch of alice's real grant (its contact trigger) shows in it.
    expect(await pendingLookupsAtNode()).toBeGreaterThan(atNodeBefore);
    const summary = summaryOf(run.stdout);
    // The reason is compared too, so a fallback says why (a dial timeout under load, a refusal, ...).
    expect({
      code: run.code,
      route: summary.route,
      fallback: summary.fallback,
      reason: summary.fallbackReason,
    }).toEqual({ code: 0, route: "split", fallback: false, reason: undefined });
  } finally {
    flooding = false;
    await flood;
  }
  expect(sent).toBeGreaterThanOrEqual(100);
  // The refusals name the flood's random session ids, which may contain "429": only bob's other lines count.
  const bobLog = bob.proc.lines.filter((l) => !l.includes("direct-refused")).join("\n");
  expect(bobLog).not.toContain("rate_limited");
  expect(bobLog).not.toMatch(/\b429\b/);
}, 90_000);

test("70 idle sockets from 70 addresses do not push alice's send onto the relay", async () => {
  const idle: Socket[] = [];
  try {
    for (let i = 0; i < 70; i++) {
      const s = await openFrom(`127.0.9.${i + 1}`);
      s.on("error", () => {});
      idle.push(s);
    }
    const run = await sendToBob(cluster, SAMPLE);
    const summary = summaryOf(run.stdout);
    expect({ code: run.code, fallback: summary.fallback }).toEqual({ code: 0, fallback: false });
  } finally {
    for (const s of idle) s.destroy();
  }
}, 90_000);

test("idle sockets from one address hold at most its share of the slots; bob closes the rest at once", async () => {
  const idle: Socket[] = [];
  let closed = 0;
  try {
    for (let i = 0; i < 70; i++) {
      const s = await openFrom("127.0.8.1");
      s.on("error", () => {});
      s.on("close", () => closed++);
      idle.push(s);
    }
    await waitFor("bob to close the connections beyond the per-address share", () => closed >= 62, {
      timeoutMs: 5000,
    });
    const run = await sendToBob(cluster, SAMPLE);
    expect({ code: run.code, fallback: summaryOf(run.stdout).fallback }).toEqual({
      code: 0,
      fallback: false,
    });
    expect(closed).toBe(62);
  } finally {
    for (const s of idle) s.destroy();
  }
}, 90_000);
