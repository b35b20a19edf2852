/** @module A send beside the recording, compiled binary: a CPU-bound stand-in for the recording keeps its throughput on the core it shares with a send, and the send still completes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ChildProcess } from "../../demo/child-process.ts";
import { Cluster } from "../../demo/cluster.ts";
import type { SendResult } from "../../firmware/send/send-result.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { binary, libraryOf } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { summaryOf } from "../support/send-summary.ts";

// The recording and the send share one core, as on a one-core recorder box, so that they truly compete; the
// node and the receiving recorder run on the other core, so that their work does not land on the shared one.
const SHARED_CPU = "0";
const OTHER_CPU = "1";
const STAND_IN = join(ROOT, "test/support/cpu-stand-in.ts");
/**
 * The send is paused (SIGSTOP) and resumed in turns while the stand-in runs: its rate in the paused slices is its
 * rate alone, in the same seconds as its rate beside the send, so load from elsewhere (a shared CI or dev machine)
 * weighs on both sides alike. The first SETTLE_MS of each slice are left out.
 */
const SLICES = 10;
const SLICE_MS = 500;
const SETTLE_MS = 50;
/** The bar: the recording keeps at least 90% of the throughput it has alone. */
const KEEP_AT_LEAST = 0.9;

let cluster: Cluster;
let recording: string;

beforeAll(async () => {
  if (availableParallelism() < 2)
    throw new Error(
      "The priority test needs 2 CPUs: one shared by the stand-in and the send, one for the rest",
    );
  cluster = await Cluster.start({
    command: ["taskset", "-c", OTHER_CPU, binary()],
    // The receiver's load monitor reads the real /proc/stat: its gate decides with the stand-in running.
    realLoad: true,
  });
  try {
    await cluster.addRecorder("alice", { command: ["taskset", "-c", SHARED_CPU, binary()] });
    await cluster.addRecorder("bob");
    await cluster.permit("bob", "alice");
    // A 128 MiB MPEG-2 recording (one test stream, repeated): even at normal priority a send of it competes for
    // a second or more, enough slices to take rates from; small enough for CI.
    const piece = readFileSync(join(ROOT, "testdata/es/mpeg2-gop15.m2v"));
    recording = join(cluster.root, "evening-news.m2v");
    const out = await open(recording, "w");
    for (let n = 0; n < (128 << 20) / piece.length; n++) await out.write(piece);
    await out.close();
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
}, 60_000);

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

interface Sample {
  at: number;
  digests: number;
}

/** The stand-in on the shared core for ms, at normal priority; its samples arrive as lines "time digests". */
function startStandIn(ms: number): ChildProcess {
  return new ChildProcess("stand-in", ["taskset", "-c", SHARED_CPU, process.execPath, STAND_IN, String(ms)]);
}

function samplesOf(p: ChildProcess): Sample[] {
  return p.lines.map((l) => {
    const [at, digests] = l.split(" ").map(Number);
    return { at: at as number, digests: digests as number };
  });
}

/** Digests per second over the samples inside the windows [from, to], summed over the windows, and those ms. */
function rateOver(samples: Sample[], windows: Array<[number, number]>): { rate: number; ms: number } {
  let digests = 0;
  let ms = 0;
  for (const [from, to] of windows) {
    const inside = samples.filter((s) => s.at >= from && s.at <= to);
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (!first || !last || first === last) continue;
    digests += last.digests - first.digests;
    ms += last.at - first.at;
  }
  if (ms < 250) throw new Error(`Cannot take the stand-in's rate: ${ms} ms of samples is too little`);
  return { rate: (digests * 1000) / ms, ms };
}

/** The nice values of a running process's threads (field 19 of /proc/PID/task/TID/stat); none once it has gone. */
function nicesOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
  } catch {
    return [];
  }
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * Starts alice's send of the recording on the shared core, runs the stand-in beside it and pauses the send in
 * every other slice. Returns the stand-in's rate beside the send and alone, whether the send was still running
 * after the last slice, the send's nice values seen, and its outcome.
 */
async function competeWithSend(nice: number) {
  const alice = cluster.recorder("alice");
  // --store-if-busy: the receiver's gate reads the real load, which the stand-in (and, on a shared machine,
  // anything else) adds to; a busy answer stores the recording on the node, and the upload competes instead.
  const argv = [
    ...alice.command,
    ...["send", recording, "--to", "bob", "--json", "--store-if-busy", "--data", alice.dataDir],
  ];
  await using send = new ChildProcess("send", argv);
  let exitedAt = Number.POSITIVE_INFINITY;
  void send.exited.then(() => {
    exitedAt = Date.now();
  });
  const nices = new Set<number>();
  const watch = setInterval(() => {
    for (const n of nicesOf(send.pid)) nices.add(n);
  }, 50);
  // A send reads its config after start-up, so its first ~0.1 s of CPU runs at the caller's priority: the slices
  // begin once every thread of it has the configured nice.
  await waitUntil(() => {
    const n = nicesOf(send.pid);
    return n.length > 0 && n.every((x) => x === nice);
  }, "the send to take its configured nice");
  await using stand = startStandIn(SLICES * SLICE_MS + 300);
  await stand.waitForLine(/^\d+ \d+$/);
  const beside: Array<[number, number]> = [];
  const alone: Array<[number, number]> = [];
  for (let i = 0; i < SLICES && exitedAt === Number.POSITIVE_INFINITY; i++) {
    const paused = i % 2 === 1;
    send.proc.kill(paused ? "SIGSTOP" : "SIGCONT");
    const from = Date.now() + SETTLE_MS;
    // The slice is the measurement itself, not a wait for a condition.
    await Bun.sleep(SLICE_MS);
    (paused ? alone : beside).push([from, Math.min(Date.now(), exitedAt)]);
  }
  send.proc.kill("SIGCONT");
  const outlasted = exitedAt === Number.POSITIVE_INFINITY;
  expect(await stand.exited).toBe(0);
  const code = await send.exited;
  clearInterval(watch);
  const stdout = send.lines.join("\n");
  if (code !== 0) console.error(stdout);
  const samples = samplesOf(stand);
  return {
    beside: rateOver(samples, beside),
    alone: rateOver(samples, alone),
    outlasted,
    nices,
    code,
    summary: summaryOf(stdout),
  };
}

/** Bob files the recording (at once, or from the node once his load allows) byte-identical. */
async function expectFiledIdentical(summary: SendResult, mark: number): Promise<void> {
  expect(summary.mode === "live" || summary.mode === "store").toBe(true);
  await cluster
    .recorder("bob")
    .proc.waitForLine(/recorder filed .*evening-news\.m2v/, { timeoutMs: 60_000, since: mark });
  const copy = (await libraryOf(cluster, "bob")).findLast((r) => r.sha256 === summary.sha256);
  expect(copy).toBeDefined();
  expect(await sha256File(copy?.path ?? "")).toBe(await sha256File(recording));
}

type Rate = { rate: number; ms: number };
function report(what: string, r: { beside: Rate; alone: Rate; summary: SendResult }): number {
  const ratio = r.beside.rate / r.alone.rate;
  const show = (x: Rate) => `${x.rate.toFixed(0)} digests/s over ${x.ms} ms`;
  console.log(
    `stand-in beside a ${what} ${r.summary.mode} send: ${show(r.beside)}, alone ${show(r.alone)}: ratio ${ratio.toFixed(3)}`,
  );
  return ratio;
}

describe("a send beside the recording", () => {
  test("the stand-in keeps at least 90% of its solo throughput while a send at the default priority shares its core, and the send completes", async () => {
    const bob = cluster.recorder("bob");
    const mark = bob.proc.lines.length;
    const r = await competeWithSend(19);
    const ratio = report("default-priority", r);
    // The send ran at nice 19, and was still sending after the last slice: it competed throughout.
    expect(r.nices.has(19)).toBe(true);
    expect(r.outlasted).toBe(true);
    expect(ratio).toBeGreaterThanOrEqual(KEEP_AT_LEAST);
    // The receiver's load monitor, reading the real /proc/stat with the stand-in running, answered the node.
    await bob.proc.waitForLine(/recorder trigger kind=status id=\S+ answer=(acceptable|busy)/, {
      timeoutMs: 5000,
      since: mark,
    });
    expect(r.code).toBe(0);
    expect(r.summary.ok).toBe(true);
    await expectFiledIdentical(r.summary, mark);
  }, 120_000);

  test("the same send at normal priority (config nice 0, I/O unchanged) takes a visible share from the stand-in: the competition is real", async () => {
    await writeFile(
      join(cluster.recorder("alice").dataDir, "config.json"),
      JSON.stringify({ priority: { nice: 0, io: "unchanged" } }),
    );
    const mark = cluster.recorder("bob").proc.lines.length;
    const r = await competeWithSend(0);
    const ratio = report("normal-priority", r);
    expect([...r.nices]).toEqual([0]);
    expect(ratio).toBeLessThan(KEEP_AT_LEAST);
    expect(r.code).toBe(0);
    await expectFiledIdentical(r.summary, mark);
  }, 120_000);
});
