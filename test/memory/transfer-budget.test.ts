/** @module Issue 14 point 1: the node and two recorders (compiled binary) in memory-limited cgroups send 1 GiB on every route, with no OOM kill and a byte-identical copy. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import type { Cluster } from "../../demo/cluster.ts";
import { MemoryCgroup } from "../support/cgroup.ts";
import { compiledBinary } from "../support/compiled-binary.ts";
import { libraryOf, startCluster } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { ScriptedLoad } from "../support/scripted-load.ts";
import { summaryOf } from "../support/send-summary.ts";

const MIB = 1024 * 1024;
/**
 * Issue 14: recorders (the daemons and the `send` process) get 80 MiB and no swap (the ceiling was 96 MiB;
 * its RSS target is 80); the node's target is 96 MiB. A cgroup charges what a process allocates, the socket
 * buffers and the page cache it fills (reclaimable), not the runtime's code pages another process already read.
 */
const RECORDER_LIMIT = 80 * MIB;
const NODE_LIMIT = 96 * MIB;
const RECORDING_BYTES = 1024 * MIB;
// A 1 GiB send took over 240 s on a shared 2-core machine under other jobs' load (5-6 MB/s).
const ROUTE_TIMEOUT_MS = 600_000;

let cluster: Cluster;
let load: ScriptedLoad;
let recording: string;
let recordingSha: string;
const groups = new Map<string, MemoryCgroup>();

/** A 4 s SD MPEG-2 seed (the bench's recipe: 720x576, 25 frames/s, GOP 12, two B-pictures), looped to `bytes`. */
async function loopedMpeg2(dir: string, bytes: number): Promise<string> {
  const seed = join(dir, "seed.m2v");
  await $`ffmpeg -v error -y -f lavfi -i testsrc2=size=720x576:rate=25 -t 4 -c:v mpeg2video -g 12 -bf 2 -b:v 15M -maxrate 15M -bufsize 4M -f mpeg2video ${seed}`.quiet();
  const seedBytes = new Uint8Array(await Bun.file(seed).arrayBuffer());
  const path = join(dir, "recording-1g.m2v");
  await using out = await open(path, "w");
  for (let n = 0; n < bytes; n += seedBytes.length) await out.write(seedBytes);
  return path;
}

function group(name: string): MemoryCgroup {
  const g = groups.get(name);
  if (!g) throw new Error(`no cgroup ${name}`);
  return g;
}

beforeAll(async () => {
  // Missing is an error, never a skip (test/support/compiled-binary.ts).
  compiledBinary("The memory budget test");
  for (const [name, limit] of [
    ["node", NODE_LIMIT],
    ["alice", RECORDER_LIMIT],
    ["bob", RECORDER_LIMIT],
    ["send", RECORDER_LIMIT],
  ] as const) {
    groups.set(name, await MemoryCgroup.create(name, { memoryMax: limit }));
  }
  cluster = await startCluster({ wrap: (child) => group(child).wrap() });
  const dir = join(cluster.root, "input");
  await mkdir(dir);
  recording = await loopedMpeg2(dir, RECORDING_BYTES);
  recordingSha = await sha256File(recording);
  const loadDir = join(cluster.root, "bob-load");
  await mkdir(loadDir);
  load = new ScriptedLoad(loadDir);
  await load.ready();
  await cluster.addRecorder("alice");
  await cluster.addRecorder("bob", { loadDir });
  await cluster.permit("bob", "alice");
}, 120_000);

afterAll(async () => {
  load?.[Symbol.dispose]();
  await cluster?.[Symbol.asyncDispose]();
  for (const g of groups.values()) await g[Symbol.asyncDispose]();
});

/** `pvrlink send` by alice, itself in the "send" cgroup from its first instruction. */
async function send(flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    ...group("send").wrap(),
    compiledBinary("The memory budget test"),
    "send",
    recording,
    "--to",
    "bob",
    "--json",
    ...flags,
    "--data",
    cluster.recorder("alice").dataDir,
  ];
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** bob filed a byte-identical copy (hashed here, not taken from bob's word); it is removed, so the next route files its own. */
async function expectIdenticalCopy(sha: string): Promise<void> {
  expect(sha).toBe(recordingSha);
  const entry = (await libraryOf(cluster, "bob")).find((r) => r.sha256 === sha);
  expect(entry).toBeDefined();
  expect(await sha256File(entry?.path ?? "")).toBe(recordingSha);
  const removed = await cluster.recorderRun("bob", ["library", "remove", entry?.id ?? ""]);
  expect(removed.code).toBe(0);
}

async function expectNoOomKill(): Promise<void> {
  const kills = Object.fromEntries(
    await Promise.all([...groups].map(async ([name, g]) => [name, (await g.events()).oom_kill] as const)),
  );
  expect(kills).toEqual({ node: 0, alice: 0, bob: 0, send: 0 });
  // Not asserted (hitting the limit means reclaim, e.g. of the written file's page cache): said for the record.
  const seen = await Promise.all(
    [...groups].map(
      async ([name, g]) =>
        `${name} peak ${((await g.peak()) / MIB).toFixed(0)} MiB, at the limit ${(await g.events()).max}x`,
    ),
  );
  console.error(`cgroups: ${seen.join("; ")}`);
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe("the cgroup harness", () => {
  test("sees an OOM kill: 200 MiB touched in a 64 MiB group is killed and counted", async () => {
    await using g = await MemoryCgroup.create("control", { memoryMax: 64 * MIB });
    const p = Bun.spawn([...g.wrap(), process.execPath, "-e", "new Uint8Array(200 * 2 ** 20).fill(1)"], {
      stdout: "ignore",
      stderr: "ignore",
    });
    expect(await p.exited).not.toBe(0);
    expect((await g.events()).oom_kill).toBe(1);
  });
});

describe("1 GiB on every route inside 80 MiB (recorders) and 96 MiB (node) cgroups, no swap", () => {
  const live = [
    {
      route: "video, sealed (the default)",
      flags: [],
      expect: { route: "split", protection: "sealed" },
    },
    {
      route: "video in seed mode",
      flags: ["--protection", "seed"],
      expect: { route: "split", protection: "seed" },
    },
    {
      route: "video in pattern mode",
      flags: ["--protection", "pattern"],
      expect: { route: "split", protection: "pattern" },
    },
    { route: "secret via relay", flags: ["--secret"], expect: { route: "secret", fallback: false } },
    // A port nothing listens on: the dial is refused and everything goes sealed through the node.
    {
      route: "relay fallback",
      flags: ["--direct", "127.0.0.1:1"],
      expect: { route: "split", fallback: true, protection: "sealed" },
    },
  ];
  for (const c of live) {
    test(
      `${c.route}: sent, byte-identical, no OOM kill`,
      async () => {
        const run = await send(c.flags);
        expect(run.stderr).not.toContain("Killed");
        const summary = summaryOf(run.stdout);
        expect({ code: run.code, ok: summary.ok }).toEqual({ code: 0, ok: true });
        expect(summary).toMatchObject(c.expect);
        await expectIdenticalCopy(summary.sha256);
        await expectNoOomKill();
      },
      ROUTE_TIMEOUT_MS,
    );
  }

  test(
    "store-and-forward pickup: stored while bob is busy, picked up once idle, byte-identical, no OOM kill",
    async () => {
      const bob = cluster.recorder("bob");
      load.busy = true;
      const probe = join(cluster.root, "probe.bin");
      await Bun.write(probe, "probe");
      // bob's LoadMonitor needs a few readings of the scripted /proc/stat before it answers busy.
      await waitUntil(
        async () => {
          const r = await cluster.recorderRun("alice", ["send", probe, "--to", "bob", "--json"]);
          return summaryOf(r.stdout).code === "callee_busy";
        },
        15_000,
        "bob to answer busy",
      );
      const mark = bob.proc.lines.length;
      const run = await send(["--store-if-busy"]);
      const summary = summaryOf(run.stdout);
      expect({ code: run.code, mode: summary.mode }).toEqual({ code: 0, mode: "store" });
      load.busy = false;
      await bob.proc.waitForLine(/recorder filed .*recording-1g\.m2v/, {
        timeoutMs: ROUTE_TIMEOUT_MS / 2,
        since: mark,
      });
      await expectIdenticalCopy(summary.sha256);
      await expectNoOomKill();
    },
    ROUTE_TIMEOUT_MS,
  );
});
