/** @module Integration: the node's /healthz, /readyz, /metrics and JSON log, from the real process over real sockets. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat, { type PromFamily } from "parse-prometheus-text-format";
import { waitFor } from "../../demo/wait-for.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startNode({ config: { triggerDeadlineMs: 600 } });
});
afterAll(async () => {
  await node?.[Symbol.asyncDispose]();
});

async function scrape(): Promise<Map<string, PromFamily>> {
  const res = await node.fetch(`${node.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return new Map(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
}

const sample = (f: PromFamily | undefined, labels: Record<string, string> = {}) =>
  Number(
    f?.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))?.value ?? Number.NaN,
  );

describe("operations endpoints", () => {
  test("/healthz and /readyz answer 200 without a token", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await node.fetch(`${node.baseUrl}${path}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toMatch(/^(ok|ready)$/);
    }
  });

  test("/metrics parses and counts devices, keepalives, triggers and queries as they happen", async () => {
    const before = await scrape();
    const alice = await node.enroll(`ops-alice-${Date.now() % 1e6}`);
    const bob = await node.enroll(`ops-bob-${Date.now() % 1e6}`);
    await using a = await DeviceAgent.start(alice, node.udp);
    await using b = await DeviceAgent.start(bob, node.udp);
    await node.client(alice).register("127.0.0.1", 40001);
    await node.client(bob).register("127.0.0.1", 40002);
    await a.keepalive();
    await b.keepalive();
    await node.client(bob).updateAllowList({ create: [alice.name] });
    const live = await node.client(alice).query(bob.name);
    expect(live.status).toBe(200);
    const denied = await node
      .client(bob)
      .query(alice.name)
      .catch((e: unknown) => e);
    expect(denied).toBeDefined();

    const after = await scrape();
    const devices = after.get("pvrlink_devices");
    expect(sample(devices, { state: "connected" })).toBeGreaterThanOrEqual(2);
    expect(sample(after.get("pvrlink_keepalives_total"))).toBeGreaterThanOrEqual(
      sample(before.get("pvrlink_keepalives_total")) + 2,
    );
    expect(sample(after.get("pvrlink_triggers_sent_total"), { kind: "status" })).toBeGreaterThanOrEqual(1);
    expect(
      sample(after.get("pvrlink_queries_total"), { status: "200", code: "live" }),
    ).toBeGreaterThanOrEqual(1);
    const queryCodes = after.get("pvrlink_queries_total")!.metrics.map((m) => m.labels?.code);
    expect(queryCodes.some((c) => c !== "live")).toBe(true);
    expect(sample(after.get("pvrlink_sessions_active"))).toBeGreaterThanOrEqual(1);
    expect(sample(after.get("pvrlink_sessions_started_total"))).toBe(
      sample(before.get("pvrlink_sessions_started_total")) + 1,
    );
    expect(after.get("pvrlink_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(after.get("pvrlink_spool_bytes")?.type).toBe("GAUGE");
  });

  test("the log is JSON lines with levels, naming devices by name, with no secrets", async () => {
    const cred = await node.enroll(`ops-log-${Date.now() % 1e6}`);
    await node.admin.removeDevice(cred.id);
    // The removal is logged as the request ends; the pipe may deliver the line after the response arrives.
    await waitFor("the removal's log record", () => node.stderr().includes(`admin: removed ${cred.id}`));
    const lines = node.stderr().split("\n").filter(Boolean);
    // stderr() interleaves stdout, whose one line is the bound-address object; every other line is a log record.
    const records = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => !("http" in r && "udp" in r && !("level" in r)));
    expect(records.length).toBeGreaterThan(2);
    for (const r of records) expect(["debug", "info", "warn", "error"]).toContain(r.level as string);
    expect(records.some((r) => String(r.msg).startsWith("serving http"))).toBe(true);
    const removal = records.find((r) => r.msg === `admin: removed ${cred.id}`);
    expect(removal).toMatchObject({ level: "info", component: "admin", deviceId: cred.id });
    expect(node.stderr()).not.toContain(cred.secret);
    expect(node.stderr()).not.toContain(node.adminToken);
  });
});
