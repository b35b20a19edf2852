/** @module End to end, compiled binary: busy → store-and-forward → pickup, lease extension, forced end, node restart mid-transfer. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { incomingLeftovers, sha256File, spoolSizes } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { ScriptedLoad } from "../support/scripted-load.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;
let load: ScriptedLoad;

beforeAll(async () => {
  cluster = await startAliceAndBob({
    // bob reads a scripted /proc/stat, so a test can make him busy and idle again.
    bobLoadDir: async (c) => {
      const loadDir = join(c.root, "bob-load");
      await mkdir(loadDir, { recursive: true });
      load = new ScriptedLoad(loadDir);
      await load.ready();
      return loadDir;
    },
  });
});

afterAll(async () => {
  load?.[Symbol.dispose]();
  await cluster?.[Symbol.asyncDispose]();
});

async function randomFile(c: Cluster, name: string, bytes: number): Promise<string> {
  const path = join(c.root, name);
  await writeFile(path, randomBytes(bytes));
  return path;
}

/** Neither a copy with this hash in bob's library nor a temp file left behind. */
async function expectNothingFiled(c: Cluster, sha: string): Promise<void> {
  expect((await libraryOf(c, "bob")).some((r) => r.sha256 === sha)).toBe(false);
  await waitFor(
    "bob's temp files to go",
    async () => (await incomingLeftovers(c.recorder("bob").dataDir)).length === 0,
    { timeoutMs: 5000 },
  );
}

describe("store-and-forward", () => {
  afterEach(() => {
    load.busy = false;
  });
  test("a callee busy by its CPU load gets the recording stored, and picks it up once the load drops", async () => {
    const bob = cluster.recorder("bob");
    load.busy = true;
    const file = await randomFile(cluster, "stored.bin", 200_000);
    const probe = await randomFile(cluster, "probe.bin", 1000);
    // The daemon's LoadMonitor needs a couple of readings of the scripted /proc/stat before its CPU share is
    // over the limit; until then a send would go through, so ask without store-and-forward until it is refused.
    let refusedCode: string | undefined;
    await waitFor(
      "bob to answer busy",
      async () => {
        const r = await sendToBob(cluster, probe);
        refusedCode = summaryOf(r.stdout).code;
        return refusedCode === "callee_busy";
      },
      { timeoutMs: 15_000 },
    );
    expect(refusedCode).toBe("callee_busy");
    const mark = bob.proc.lines.length;
    const run = await sendToBob(cluster, file, ["--store-if-busy"]);
    const s = summaryOf(run.stdout);
    expect(run.code).toBe(0);
    expect(s.mode).toBe("store");
    expect(s.bytesDirect).toBe(0);
    const inbox = JSON.parse((await cluster.recorderRun("bob", ["inbox", "--json"])).stdout) as {
      pending: Array<{ id: string }>;
    };
    expect(inbox.pending.map((p) => p.id)).toEqual(s.transfers);
    // The sender reported the session's end (accounting) before the pickup: the node keeps the store grant,
    // so bob still gets the key when its load allows.
    const ended = (await cluster.admin.sessions("ended")).find((x) => x.id === s.sessionId);
    expect(ended?.reason).toBe("stored");
    // Still busy: bob's pickup finds the stored transfer and defers it for the load.
    await bob.proc.waitForLine(/recorder pickup-deferred .*reason=busy/, { timeoutMs: 15_000, since: mark });
    expect((await libraryOf(cluster, "bob")).some((r) => r.sha256 === s.sha256)).toBe(false);
    load.busy = false;
    await bob.proc.waitForLine(/recorder filed .*stored\.bin/, { timeoutMs: 30_000, since: mark });
    const got = (await libraryOf(cluster, "bob")).find((r) => r.sha256 === s.sha256);
    expect(await sha256File(got?.path ?? "")).toBe(await sha256File(file));
    await waitFor(
      "the node to delete the acknowledged transfer",
      async () => (await cluster.admin.spool()).files === 0,
      { timeoutMs: 5000 },
    );
  });
});

describe("forced end and node restart", () => {
  test("a forced end (admin API) stops the send with session_ended and leaves nothing half-written at the callee", async () => {
    const bob = cluster.recorder("bob");
    const file = await randomFile(cluster, "long.bin", 3_000_000);
    await using tap = await Tap.start(bob.direct, 1_000_000);
    const mark = bob.proc.lines.length;
    const sending = sendToBob(cluster, file, ["--direct", `127.0.0.1:${tap.port}`]);
    await bob.proc.waitForLine(/recorder offer/, { timeoutMs: 10_000, since: mark });
    const [active] = await cluster.admin.sessions("active");
    expect(active).toBeDefined();
    await cluster.admin.endSession(active?.id ?? "", "operator");
    const run = await sending;
    const s = summaryOf(run.stdout);
    expect(run.code).toBe(1);
    expect(s.code).toBe("session_ended");
    expect(s.forcedEnd).toBe(true);
    await expectNothingFiled(cluster, await sha256File(file));
  });

  test("a node killed and restarted during a relay upload: both recorders resume and the recording is filed once, byte-identical", async () => {
    const bob = cluster.recorder("bob");
    const file = await randomFile(cluster, "secret.bin", 4_000_000);
    const sha = await sha256File(file);
    await using nodeTap = await Tap.start(cluster.http, 2_000_000);
    const mark = bob.proc.lines.length;
    const sending = sendToBob(cluster, file, ["--secret", "--node", `https://127.0.0.1:${nodeTap.port}`]);
    await bob.proc.waitForLine(/recorder offer/, { timeoutMs: 10_000, since: mark });
    // Kill the node once a good part of the upload is in its spool, so both sides have something to resume.
    await waitFor(
      "a megabyte of the upload in the node's spool",
      async () => (await spoolSizes(cluster.nodeDataDir)).some((size) => size >= 1_000_000),
      { timeoutMs: 15_000 },
    );
    await cluster.restartNode("SIGKILL");
    const run = await sending;
    const s = summaryOf(run.stdout);
    if (run.code !== 0) console.error(run.stdout, bob.proc.lines.slice(mark).join("\n"));
    expect(run.code).toBe(0);
    expect(s.ok).toBe(true);
    expect(run.stdout).toContain("resumed and completed");
    const copies = (await libraryOf(cluster, "bob")).filter((r) => r.sha256 === sha);
    expect(copies.length).toBe(1);
    expect(await sha256File(copies[0]?.path ?? "")).toBe(sha);
    expect(bob.proc.lines.slice(mark).filter((l) => /recorder filed .*secret\.bin/.test(l)).length).toBe(1);
    expect(await incomingLeftovers(bob.dataDir)).toEqual([]);
  });
});

describe("short leases (2 s)", () => {
  let short: Cluster;
  beforeAll(async () => {
    short = await startAliceAndBob({
      nodeConfig: { sessionDurationSec: 2, connectWindowSec: 2, extensionSec: 2 },
    });
  });
  afterAll(async () => {
    await short?.[Symbol.asyncDispose]();
  });

  test("send asks for an extension at 70% of the permitted duration and finishes past the original lease", async () => {
    const bob = short.recorder("bob");
    const file = await randomFile(short, "slow.bin", 5_000_000);
    await using tap = await Tap.start(bob.direct, 1_000_000);
    const started = Date.now();
    const run = await sendToBob(short, file, ["--direct", `127.0.0.1:${tap.port}`]);
    const s = summaryOf(run.stdout);
    if (run.code !== 0) console.error(run.stdout, run.stderr, bob.proc.lines.slice(-15).join("\n"));
    expect(run.code).toBe(0);
    expect(s.extensions).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThan(4000);
    expect(run.stdout).toContain("session extended");
    const got = (await libraryOf(short, "bob")).find((r) => r.sha256 === s.sha256);
    expect(await sha256File(got?.path ?? "")).toBe(await sha256File(file));
    const [ended] = await short.admin.sessions("ended");
    expect(ended?.extensions).toBe(s.extensions);
  });

  test("a node that stays down past the session lease: the send fails with a clear error and the callee files nothing", async () => {
    const bob = short.recorder("bob");
    const file = await randomFile(short, "lost.bin", 4_000_000);
    const sha = await sha256File(file);
    await using nodeTap = await Tap.start(short.http, 1_000_000);
    const mark = bob.proc.lines.length;
    const sending = sendToBob(short, file, ["--secret", "--node", `https://127.0.0.1:${nodeTap.port}`]);
    await bob.proc.waitForLine(/recorder offer/, { timeoutMs: 10_000, since: mark });
    await short.node.stop("SIGKILL");
    const run = await sending;
    const s = summaryOf(run.stdout);
    expect(run.code).toBe(1);
    expect(s.ok).toBe(false);
    expect(s.code).toBe("relay_upload_failed");
    expect(s.message).toContain("lease ran out");
    // The callee waits out the outage until the lease it knows ends, then drops the partial download. Which of
    // three clocks fires first decides the code, all at the same lease end: its relay reader gives up
    // (node_unreachable), its own channel expires (expired), or alice's channel expired first and closed it
    // (ended, "Peer closed: expired"; seen under a loaded full run).
    await bob.proc.waitForLine(
      /recorder receive-failed .*(code=(expired|node_unreachable)|code=ended message="Peer closed: expired")/,
      {
        timeoutMs: 10_000,
        since: mark,
      },
    );
    await short.restartNode("SIGKILL");
    expect((await libraryOf(short, "bob")).some((r) => r.sha256 === sha)).toBe(false);
    await waitFor("bob's temp files to go", async () => (await incomingLeftovers(bob.dataDir)).length === 0, {
      timeoutMs: 5000,
    });
  });
});
