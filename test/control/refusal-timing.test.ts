/** @module Integration: under the device-held policy an unpermitted caller's refusal takes the same time whether the name exists, its callee is online or offline; with the deadline off, the test sees the difference. */
import { afterAll, describe, expect, test } from "bun:test";
import type { ControlClient } from "../../protocol/control-client.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const SAMPLES = 8;
const REFUSAL_MS = 400;
const nodes: NodeProcess[] = [];
const agents: DeviceAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a[Symbol.asyncDispose]();
  for (const n of nodes) await n[Symbol.asyncDispose]();
});

interface Stage {
  caller: ControlClient;
  /** Callee names: one online (answers its verdict after one retry, as a busy box would), one offline, one absent. */
  online: string;
  offline: string;
  absent: string;
}

async function stage(refusalDeadlineMs: number): Promise<Stage> {
  const node = await startNode({
    config: { refusalDeadlineMs, triggerDeadlineMs: 2000, rateLimitBurst: 1000 },
  });
  nodes.push(node);
  const enroll = async (name: string) => {
    const cred = await node.enroll(name);
    return { cred, api: node.client(cred) };
  };
  const caller = await enroll("timing-caller");
  const online = await enroll("timing-online");
  const offline = await enroll("timing-offline");
  for (const c of [online, offline]) {
    await c.api.register("127.0.0.1", 9);
    await c.api.setPolicy("device");
  }
  const agent = await DeviceAgent.start(online.cred, node.udp);
  agents.push(agent);
  // The first copy of each verdict trigger goes unanswered, the retry 150 ms later is denied.
  const seen = new Set<string>();
  agent.answer = (t) => {
    if (t.kind !== "verdict") return undefined;
    if (seen.has(t.id)) return "deny";
    seen.add(t.id);
    return "no-ack";
  };
  await agent.keepalive();
  return { caller: caller.api, online: "timing-online", offline: "timing-offline", absent: "timing-nobody" };
}

/** Milliseconds each of SAMPLES refused queries took, interleaved across the callees. */
async function timings(s: Stage): Promise<Record<"online" | "offline" | "absent", number[]>> {
  const out = { online: [] as number[], offline: [] as number[], absent: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    for (const k of ["online", "offline", "absent"] as const) {
      const t0 = performance.now();
      const res = await s.caller.raw("POST", "/v1/query", JSON.stringify({ callee: s[k] }));
      out[k].push(performance.now() - t0);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("permission_denied");
    }
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** The widest gap between the medians of the three kinds of refusal. */
const spread = (t: Record<string, number[]>) => {
  const m = Object.values(t).map(median);
  return Math.max(...m) - Math.min(...m);
};

describe("refusal timing under the device-held policy", () => {
  test("with the refusal deadline, absent, offline and online callees are refused in the same time", async () => {
    const t = await timings(await stage(REFUSAL_MS));
    for (const xs of Object.values(t)) for (const x of xs) expect(x).toBeGreaterThanOrEqual(REFUSAL_MS - 1);
    // The distributions overlap: their medians sit within a small share of the deadline of each other.
    expect(spread(t)).toBeLessThan(REFUSAL_MS / 4);
  }, 60_000);

  test("without it (refusalDeadlineMs 0) the same measurement tells an online callee from an absent one", async () => {
    const t = await timings(await stage(0));
    expect(median(t.online)).toBeGreaterThan(median(t.absent) + 100);
    expect(spread(t)).toBeGreaterThan(100);
  }, 60_000);
});
