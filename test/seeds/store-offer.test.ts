/** @module End to end, compiled binary: the node's store offer to a caller whose callee is busy (seed A embodiment 3, S2611-S2615). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { binary, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";

/** The node's policy: at most 100 kB per transfer (S2202) and 120 kB per sender held in the spool. */
const THRESHOLD = 100_000;
const QUOTA = 120_000;
const PROMPT = "[y/N]";

let cluster: Cluster;
const file = (size: number) => join(cluster.root, `rec-${size}.bin`);

beforeAll(async () => {
  cluster = await startAliceAndBob({
    nodeConfig: { relayThresholdBytes: THRESHOLD, relayQuotaBytes: QUOTA },
  });
  for (const size of [80_000, 150_000, 60_000, 30_000]) await writeFile(file(size), randomBytes(size));
  // Bob stays busy throughout, so what is stored stays on the node (and counts against alice's quota).
  await cluster.ok(["recorder", "busy", "on", "--data", cluster.recorder("bob").dataDir]);
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** `pvrlink send` on a terminal that answers "y" if, and only if, the store prompt appears. */
async function sendOnTerminal(path: string): Promise<{ code: number; output: string }> {
  const p = Bun.spawn(
    [
      "python3",
      join(import.meta.dir, "../cli/pty-run.py"),
      "120",
      binary(),
      "send",
      path,
      "--to",
      "bob",
      "--data",
      cluster.recorder("alice").dataDir,
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, PTY_PROMPT: PROMPT, PTY_ANSWER: "y" } },
  );
  const [output, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, output };
}

describe("the node's store offer (A S2611-S2615)", () => {
  test("--store-if-busy acts on the offer: a recording within threshold and quota is stored", async () => {
    const run = await sendToBob(cluster, file(80_000), ["--store-if-busy"]);
    const summary = summaryOf(run.stdout);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, mode: "store" });
    expect((await cluster.admin.spool()).files).toBe(1);
  });

  test("over the node's size threshold the node does not offer, and says why (transfer_too_large)", async () => {
    const run = await sendToBob(cluster, file(150_000), ["--store-if-busy"]);
    const summary = summaryOf(run.stdout);
    expect(run.code).toBe(1);
    expect(summary.code).toBe("callee_busy");
    expect(summary.store).toMatchObject({ offered: false, reason: "transfer_too_large" });
    expect(summary.message).toContain("threshold");
    expect((await cluster.admin.spool()).files).toBe(1);
  });

  test("beyond the caller's quota left the node does not offer, and says why (quota_exceeded)", async () => {
    const run = await sendToBob(cluster, file(60_000), ["--store-if-busy"]);
    const summary = summaryOf(run.stdout);
    expect(run.code).toBe(1);
    expect(summary.store).toMatchObject({ offered: false, reason: "quota_exceeded" });
    expect(summary.message).toContain("quota");
    expect((await cluster.admin.spool()).files).toBe(1);
  });

  test("on a terminal the prompt is asked only when the node offers; 'y' stores the recording", async () => {
    const refused = await sendOnTerminal(file(60_000));
    expect(refused.code).toBe(1);
    expect(refused.output).not.toContain(PROMPT);
    expect(refused.output).toContain("quota_exceeded");
    const offered = await sendOnTerminal(file(30_000));
    expect(offered.output).toContain(PROMPT);
    expect(offered.code).toBe(0);
    expect(offered.output).toContain("stored on the node");
    expect((await cluster.admin.spool()).files).toBe(2);
  });

  test("a query's size must be a byte count: anything else is 400 bad_request", async () => {
    const alice = cluster.recorder("alice");
    const cred = JSON.parse(await Bun.file(join(alice.dataDir, "credential.json")).text()) as {
      id: string;
      secret: string;
    };
    const client = new ControlClient({
      baseUrl: cluster.nodeUrl,
      deviceId: cred.id,
      secret: cred.secret,
      trust: { kind: "pin", pin: cluster.pin },
    });
    for (const size of [-1, 1.5, "10", 2 ** 60, null]) {
      const res = await client.raw("POST", "/v1/query", JSON.stringify({ callee: "bob", size }));
      expect(res.status).toBe(400);
    }
  });

  test("the busy answer carries the node's refusal to store even without --store-if-busy", async () => {
    const run = await sendToBob(cluster, file(30_000));
    expect(run.code).toBe(1);
    // 110 kB of alice's 120 kB are held: 30 kB more is over quota, and the summary says so though nothing was asked.
    const summary = summaryOf(run.stdout);
    expect(summary.store).toMatchObject({ offered: false, reason: "quota_exceeded" });
    expect(run.stdout).not.toContain("rerun with --store-if-busy");
  });
});
