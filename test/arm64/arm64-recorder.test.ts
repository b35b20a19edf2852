/** @module The recorder role on ARM64: an ARM64 daemon under qemu-user sends to and receives from an x64 recorder through an x64 node, every copy byte-identical. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type RunResult, runToEnd } from "../../demo/child-process.ts";
import type { Cluster } from "../../demo/cluster.ts";
import type { SendResult } from "../../firmware/send/send-result.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { filedEntry, libraryOf, startCluster } from "../support/e2e-stage.ts";
import { incomingLeftovers, sha256File } from "../support/left-behind.ts";
import { ARM64_BINARY, requireBinary } from "../support/pvrlink-process.ts";
import { ScriptedLoad } from "../support/scripted-load.ts";
import { summaryOf } from "../support/send-summary.ts";

/** How test/support/pvrlink-process.ts runs the ARM64 binary: qemu-user with the cross libc as its sysroot. */
const ARM64_COMMAND = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", requireBinary(ARM64_BINARY)];
const ARM = "arm64";
const X64 = "x64";

// Small fixtures: every ARM64 command pays about half a second of emulated start-up, and the daemon's work
// runs some ten times slower than native.
const ES = join(ROOT, "testdata/es/mpeg2-gop15.m2v");
const TS = join(ROOT, "testdata/containers/ts-mpeg2.ts");
const SECRET = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const STORED = join(ROOT, "testdata/es/mpeg2-closed-gop.m2v");
/** Sent until the callee answers busy; the ones that get through before its monitor sees the load are filed. */
const PROBE = join(ROOT, "testdata/es/mpeg2-no-b.m2v");

let cluster: Cluster;
let armLoad: ScriptedLoad;

beforeAll(async () => {
  // The node gives a trigger 3 s to be ACKed by default; an emulated recorder can take longer than that to
  // wake up while it is busy receiving, and a late ACK would read as "not connected", not as a failure of it.
  cluster = await startCluster({ nodeConfig: { triggerDeadlineMs: 10_000 } });
  try {
    // The ARM64 daemon reads a scripted /proc/stat, so its own LoadMonitor can be made busy and idle again.
    const loadDir = join(cluster.root, "arm64-load");
    await mkdir(loadDir, { recursive: true });
    armLoad = new ScriptedLoad(loadDir);
    await armLoad.ready();
    await cluster.addRecorder(ARM, { command: ARM64_COMMAND, loadDir });
    await cluster.addRecorder(X64);
    await cluster.permit(X64, ARM);
    // The ARM64 recorder keeps its own allow-list: the node asks it with a verdict trigger for every caller.
    await ok(cluster.recorderRun(ARM, ["permit", "policy", "device"]));
    await cluster.permit(ARM, X64);
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
}, 120_000);

afterAll(async () => {
  armLoad?.[Symbol.dispose]();
  await cluster?.[Symbol.asyncDispose]();
});

async function ok(run: Promise<RunResult>): Promise<string> {
  const r = await run;
  if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** `pvrlink send FILE --to TO --json FLAGS` run by FROM, with its own binary (ARM64 under qemu, or x64). */
async function send(from: string, to: string, file: string, flags: string[] = []) {
  const run = await cluster.recorderRun(from, ["send", file, "--to", to, "--json", ...flags]);
  return { run, summary: summaryOf(run.stdout) };
}

/** What a send ended with, in one comparable record: a failure or a fallback carries its reason, so it shows. */
function outcomeOf(run: RunResult, summary: SendResult) {
  return {
    code: run.code,
    route: summary.route,
    protection: summary.protection,
    fallback: summary.fallback,
    ...(summary.fallbackReason === undefined ? {} : { fallbackReason: summary.fallbackReason }),
    ...(run.code === 0 ? {} : { message: summary.message, stderr: run.stderr.slice(-600) }),
  };
}

/** The copy TO filed from FROM with the summary's hash: present, byte-identical, nothing left in .incoming. */
async function expectFiledIdentical(to: string, from: string, file: string, s: SendResult) {
  const original = await sha256File(file);
  expect(s.sha256).toBe(original);
  const entry = await filedEntry(cluster, to, { sha256: original, sender: from, timeoutMs: 120_000 });
  expect(await sha256File(entry?.path ?? "")).toBe(original);
  expect(await incomingLeftovers(cluster.recorder(to).dataDir)).toEqual([]);
  return entry;
}

/** Waits until a daemon's log, from line `mark` on, has a line matching re; returns that line. */
function logged(name: string, re: RegExp, mark = 0, timeoutMs = 30_000): Promise<string> {
  return cluster
    .recorder(name)
    .proc.waitForLine(re, { timeoutMs, since: mark })
    .then((m) => m[0]);
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

const directions = [
  { from: ARM, to: X64 },
  { from: X64, to: ARM },
];

describe("the ARM64 daemon's keepalive and load monitor", () => {
  test("an ARM64 recorder registers, and its keepalives keep being answered by the x64 node", async () => {
    const arm = cluster.recorder(ARM);
    // The daemon under test is the emulated ARM64 program, not an x64 one the override failed to replace.
    expect(readlinkSync(`/proc/${arm.proc.pid}/exe`)).toEndWith("qemu-aarch64-static");
    // It stepped back for the recording: nice through libc, ioprio_set through bun:ffi with AArch64's number.
    await logged(ARM, /recorder priority nice=19 io=best-effort\/7 threads=\d+/);
    expect(arm.proc.lines.filter((l) => l.includes("priority-failed"))).toEqual([]);
    // And the kernel agrees: qemu-user runs the guest's threads as host threads, so ionice reads them directly.
    expect((await runToEnd(["ionice", "-p", String(arm.proc.pid)])).stdout.trim()).toBe(
      "best-effort: prio 7",
    );
    const status = async () =>
      JSON.parse(await ok(cluster.recorderRun(ARM, ["recorder", "status", "--json"]))) as {
        load: { state: string; cpu: number | undefined };
        daemon: {
          running: boolean;
          registered: { port: number } | null;
          lastAnswerAt: number | null;
          nodeReachable: boolean;
        };
      };
    const statusOf = async () => (await status()).daemon;
    // `recorder status` on ARM64 reads this machine's real /proc/stat twice and computes a CPU share.
    expect((await status()).load.cpu).toBeNumber();
    const first = await statusOf();
    expect(first.running).toBe(true);
    expect(first.registered?.port).toBe(arm.direct.port);
    expect(first.nodeReachable).toBe(true);
    expect(first.lastAnswerAt).not.toBeNull();
    // The cluster runs keepalives every 5 s: a later answer proves the loop goes on, not just the first one.
    await waitUntil(
      async () => ((await statusOf()).lastAnswerAt ?? 0) > (first.lastAnswerAt ?? 0),
      20_000,
      "a later keepalive answer",
    );
    const device = (await cluster.admin.devices()).find((d) => d.id === arm.id);
    expect(device?.connected).toBe(true);
  }, 60_000);
});

describe("sends between an ARM64 and an x64 recorder, both ways", () => {
  for (const { from, to } of directions) {
    test(`video in seed mode, ${from} to ${to}: I-pictures sealed through the node, the rest direct, byte-identical`, async () => {
      const { run, summary } = await send(from, to, ES, ["--protection", "seed"]);
      expect(outcomeOf(run, summary)).toEqual({
        code: 0,
        route: "split",
        protection: "seed",
        fallback: false,
      });
      expect(summary.iPictures).toBeGreaterThan(0);
      expect(summary.bytesDirect).toBeGreaterThan(0);
      expect(summary.bytesRelay).toBeGreaterThan(0);
      await expectFiledIdentical(to, from, ES, summary);
    }, 90_000);

    const lightAndDefault = [
      {
        mode: "the default sealed mode",
        what: "every direct frame sealed",
        file: ES,
        flags: [],
        protection: "sealed" as const,
      },
      {
        mode: "pattern mode",
        what: "P/B slice blocks encrypted too",
        file: TS,
        flags: ["--protection", "pattern"],
        protection: "pattern" as const,
      },
    ];
    for (const m of lightAndDefault) {
      test(`video in ${m.mode}, ${from} to ${to}: ${m.what}, byte-identical`, async () => {
        const { run, summary } = await send(from, to, m.file, m.flags);
        expect(outcomeOf(run, summary)).toEqual({
          code: 0,
          route: "split",
          protection: m.protection,
          fallback: false,
        });
        expect(summary.bytesDirect).toBeGreaterThan(0);
        if (m.protection === "pattern") expect(summary.patternBytes).toBeGreaterThan(0);
        await expectFiledIdentical(to, from, m.file, summary);
      }, 90_000);
    }

    test(`a secret recording, ${from} to ${to}: all of it sealed through the node, byte-identical`, async () => {
      const { run, summary } = await send(from, to, SECRET, ["--secret"]);
      expect(run.code).toBe(0);
      expect(summary.route).toBe("secret");
      expect(summary.bytesDirect).toBe(0);
      const entry = await expectFiledIdentical(to, from, SECRET, summary);
      expect(entry?.secret).toBe(true);
    }, 90_000);
  }

  test("the ARM64 daemon handled the node's triggers: status, verdict (its own allow-list) and contact", async () => {
    // Every send above to the ARM64 recorder went through these three; its log says what it answered.
    await logged(ARM, /recorder trigger kind=status id=\S+ answer=acceptable/);
    await logged(ARM, /recorder trigger kind=verdict id=\S+ answer=allow/);
    await logged(ARM, /recorder trigger kind=contact id=\S+/);
  });
});

describe("store-and-forward pickup", () => {
  test("an ARM64 callee made busy by its load monitor gets the recording stored, and picks it up once its load drops", async () => {
    const mark = cluster.recorder(ARM).proc.lines.length;
    armLoad.busy = true;
    try {
      // The ARM64 LoadMonitor needs a few readings of the scripted /proc/stat before its CPU share passes the
      // limit; until then a plain send goes through, so ask until the node relays its busy answer.
      let busy: SendResult | undefined;
      await waitUntil(
        async () => {
          busy = (await send(X64, ARM, PROBE)).summary;
          return busy.code === "callee_busy";
        },
        30_000,
        "the ARM64 recorder to answer busy",
      );
      expect(busy?.code).toBe("callee_busy");
      await logged(ARM, /recorder trigger kind=status id=\S+ answer=busy/, mark);

      const { run, summary } = await send(X64, ARM, STORED, ["--store-if-busy"]);
      expect(run.code).toBe(0);
      expect(summary.mode).toBe("store");
      expect(summary.bytesDirect).toBe(0);
      // The node told the ARM64 daemon with a data trigger; its inbox lists the transfer, waiting for load.
      await logged(ARM, /recorder trigger kind=data id=\S+/, mark);
      const inbox = JSON.parse(await ok(cluster.recorderRun(ARM, ["inbox", "--json"]))) as {
        pending: Array<{ id: string }>;
      };
      expect(inbox.pending.map((p) => p.id)).toEqual(summary.transfers);
      expect((await libraryOf(cluster, ARM)).filter((r) => r.sha256 === summary.sha256)).toEqual([]);

      armLoad.busy = false;
      await logged(ARM, /recorder filed .*mpeg2-closed-gop\.m2v/, mark, 60_000);
      await expectFiledIdentical(ARM, X64, STORED, summary);
      await waitUntil(async () => (await cluster.admin.spool()).files === 0, 10_000, "the spool to empty");
    } finally {
      armLoad.busy = false;
    }
  }, 180_000);

  test("an ARM64 sender stores for a busy x64 callee, which picks the recording up once its busy switch is off", async () => {
    const x64 = cluster.recorder(X64);
    const mark = x64.proc.lines.length;
    await ok(cluster.recorderRun(X64, ["recorder", "busy", "on"]));
    try {
      const { run, summary } = await send(ARM, X64, STORED, ["--store-if-busy"]);
      expect(run.code).toBe(0);
      expect(summary.mode).toBe("store");
      expect(summary.bytesDirect).toBe(0);
      const early = await libraryOf(cluster, X64);
      expect(early.filter((r) => r.sha256 === summary.sha256 && r.sender === ARM)).toEqual([]);
      await ok(cluster.recorderRun(X64, ["recorder", "busy", "off"]));
      await logged(X64, /recorder filed .*mpeg2-closed-gop\.m2v/, mark, 60_000);
      await expectFiledIdentical(X64, ARM, STORED, summary);
    } finally {
      await cluster.recorderRun(X64, ["recorder", "busy", "off"]);
    }
  }, 180_000);
});
