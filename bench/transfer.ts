/** @module Transfer bench: MPEG-2 recordings sent end to end over loopback (node + two recorders, compiled binary): MB/s, each role's peak RSS and CPU s/GiB, and the ratio against a raw TCP loopback copy in the same run. */
import { existsSync, statSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "bun";
import { Cluster } from "../demo/cluster.ts";
import type { SendResult } from "../firmware/send/send-recording.ts";
import { benchRecordings } from "./lib/bench-recordings.ts";
import { formatTable } from "./lib/format-table.ts";
import { rawTcpCopy } from "./lib/raw-tcp-copy.ts";
import { cpuByKind, mergeThreadCpu, threadCpu } from "./lib/thread-cpu.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out");
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** USER_HZ of /proc/PID/stat's utime and stime on Linux. */
const CLOCK_TICKS = 100;

const USAGE = `Usage: bun bench/transfer.ts [--size 256M,1G,4G] [--mode sealed,pattern,seed] [--route split,secret,fallback] [--kind es,ts]
  --size   recording sizes (M or G suffix, MiB/GiB), default 256M,1G
  --kind   es (the SD seed looped, the default) or ts (bench.ts looped: what recorders record; in pattern mode
           a TS takes pattern header version 3, an ES version 5)
  --mode   protection modes of a split, default sealed (the send's own default)
  --route  split (video, the default), secret (whole, sealed through the node), fallback (split with the
           direct dial refused: both parts sealed through the node)
  PVRLINK_BIN=FILE  the program to bench (default: builds dist/pvrlink-linux-x64); "source" runs bin/pvrlink.ts
  BENCH_PROFILE=DIR  every role (send, node, alice, bob) writes a CPU profile (Bun's --cpu-prof-md, passed to
           the compiled binary through BUN_OPTIONS) to DIR/SIZE-ROUTE-MODE-ROLE.md; the profiler's own cost
           inflates that run's figures`;

/** The send flags of each route the bench can run. */
const ROUTE_FLAGS: Record<string, string[]> = {
  split: [],
  secret: ["--secret"],
  // A port nothing listens on: the dial is refused and the send falls back to the node.
  fallback: ["--direct", "127.0.0.1:1"],
};

/**
 * Peak resident set (VmHWM) and the anonymous part of the resident set now (RssAnon: the heap, buffers and JIT
 * code, without the binary's file-backed code pages, which the page cache shares), kB → bytes; 0 once it is gone.
 */
async function residentSet(pid: number): Promise<{ hwm: number; anon: number }> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kb("VmHWM"), anon: kb("RssAnon") };
  } catch {
    return { hwm: 0, anon: 0 };
  }
}

/** CPU seconds (user + system) a live process has used so far; 0 once it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * The seed looped (byte concatenation) to at least `bytes`: for an ES each copy opens with a sequence header; for
 * a TS each copy is whole packets, so the loop is a valid TS whose continuity counters and timestamps restart.
 */
async function loopedRecording(seed: string, bytes: number, path: string): Promise<string> {
  if (existsSync(path) && statSync(path).size >= bytes) return path;
  const seedBytes = new Uint8Array(await Bun.file(seed).arrayBuffer());
  await using out = await open(path, "w");
  for (let n = 0; n < bytes; n += seedBytes.length) await out.write(seedBytes);
  return path;
}

interface Run {
  label: string;
  mode: string;
  route: string;
  bytes: number;
  seconds: number;
  mbps: number;
  rawMbps: number;
  /** The raw TCP copy into a file, fsynced: what the receiver's own write costs, with no crypto or protocol. */
  rawFileMbps: number;
  summary: SendResult;
  peakRss: Record<string, number>;
  /** Highest RssAnon sampled (every 100 ms). */
  peakAnon: Record<string, number>;
  /** Each role's process id (to name its CPU profile). */
  pids: Record<string, number>;
  cpuSecondsPerGiB: Record<string, number>;
  /** Each role's CPU s/GiB by thread kind (main, pool, jit, gc, scavenger, http, other): bench/lib/thread-cpu.ts. */
  threadSecondsPerGiB: Record<string, Record<string, number>>;
}

async function sendOnce(
  command: string[],
  file: string,
  label: string,
  o: { mode: string; route: string },
): Promise<Run> {
  const { mode, route } = o;
  const profileDir = process.env.BENCH_PROFILE;
  const runDir = profileDir ? join(profileDir, `.run-${Date.now()}`) : undefined;
  if (runDir) {
    await mkdir(runDir, { recursive: true });
    // Bun reads BUN_OPTIONS in a compiled binary too; every child spawned from here inherits it.
    process.env.BUN_OPTIONS = `--cpu-prof-md --cpu-prof-dir=${runDir}`;
  }
  const run = await sendProfiled(command, file, { label, mode, route });
  if (runDir && profileDir) {
    delete process.env.BUN_OPTIONS;
    // Each profile is named by its process id; the roles' pids tell them apart.
    const roleOf = new Map(Object.entries(run.pids).map(([role, pid]) => [String(pid), role]));
    for (const f of await readdir(runDir)) {
      const role = roleOf.get(f.split(".")[3] ?? "") ?? `other-${f}`;
      await rename(join(runDir, f), join(profileDir, `${label}-${route}-${mode}-${role}.md`));
    }
  }
  return run;
}

async function sendProfiled(
  command: string[],
  file: string,
  o: { label: string; mode: string; route: string },
): Promise<Run> {
  const { label, mode, route } = o;
  await using cluster = await Cluster.start({ command });
  const alice = await cluster.addRecorder("alice");
  const bob = await cluster.addRecorder("bob");
  await cluster.ok(["permit", "add", "alice", "--data", bob.dataDir]);
  const bytes = statSync(file).size;
  const cpu0 = { node: await cpuSeconds(cluster.node.pid), bob: await cpuSeconds(bob.proc.pid) };
  const threads0 = { node: threadCpu(cluster.node.pid), bob: threadCpu(bob.proc.pid) };
  const t0 = Bun.nanoseconds();
  const send = Bun.spawn(
    [
      ...command,
      "send",
      file,
      "--to",
      "bob",
      "--protection",
      mode,
      ...(ROUTE_FLAGS[route] ?? []),
      "--json",
      "--data",
      alice.dataDir,
    ],
    // process.env as it is now: Bun.spawn's default is the environment this process started with, without BUN_OPTIONS.
    { stdout: "pipe", stderr: "pipe", env: { ...process.env } },
  );
  const peak: Record<string, number> = { send: 0, node: 0, alice: 0, bob: 0 };
  const pids: Record<string, number> = {
    send: send.pid,
    node: cluster.node.pid,
    alice: alice.proc.pid,
    bob: bob.proc.pid,
  };
  const anon: Record<string, number> = { send: 0, node: 0, alice: 0, bob: 0 };
  const sample = (k: string, r: { hwm: number; anon: number }) => {
    peak[k] = Math.max(peak[k] ?? 0, r.hwm);
    anon[k] = Math.max(anon[k] ?? 0, r.anon);
  };
  // The send process's threads are read until it exits: each thread's highest reading is its figure.
  const sendThreads = new Map<string, number>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      for (const [k, pid] of Object.entries(pids)) sample(k, await residentSet(pid));
      mergeThreadCpu(sendThreads, threadCpu(send.pid));
      await Bun.sleep(100);
    }
  })();
  const stdoutP = new Response(send.stdout).text();
  const stderrP = new Response(send.stderr).text();
  // The send process's VmHWM is read until it exits; its last reading is within 100 ms of its end.
  const code = await send.exited;
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  running = false;
  await sampler;
  for (const k of ["node", "alice", "bob"]) sample(k, await residentSet(pids[k] as number));
  const usage = send.resourceUsage();
  const sendCpu = usage ? Number(usage.cpuTime.total) / 1e6 : 0;
  const gib = bytes / GIB;
  const cpuSecondsPerGiB = {
    send: sendCpu / gib,
    node: ((await cpuSeconds(cluster.node.pid)) - cpu0.node) / gib,
    bob: ((await cpuSeconds(bob.proc.pid)) - cpu0.bob) / gib,
  };
  const perGiB = (byKind: Record<string, number>) =>
    Object.fromEntries(Object.entries(byKind).map(([kind, seconds]) => [kind, seconds / gib]));
  const threadSecondsPerGiB = {
    send: perGiB(cpuByKind(new Map(), sendThreads)),
    node: perGiB(cpuByKind(threads0.node, threadCpu(cluster.node.pid))),
    bob: perGiB(cpuByKind(threads0.bob, threadCpu(bob.proc.pid))),
  };
  const stdout = await stdoutP;
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.includes('"event":"summary"'));
  if (code !== 0 || !line)
    throw new Error(`bench: send exited ${code}: ${await stderrP}\n${stdout.slice(-1000)}`);
  const summary = JSON.parse(line) as SendResult;
  return {
    label,
    mode,
    route,
    bytes,
    seconds,
    mbps: bytes / seconds / 1e6,
    rawMbps: 0,
    rawFileMbps: 0,
    summary,
    peakRss: peak,
    peakAnon: anon,
    pids,
    cpuSecondsPerGiB,
    threadSecondsPerGiB,
  };
}

function parseSize(s: string): number {
  const m = /^(\d+)([MG])$/i.exec(s.trim());
  if (!m) throw new SyntaxError(`Cannot read size '${s}': expected e.g. 256M or 4G\n${USAGE}`);
  return Number(m[1]) * (m[2]?.toUpperCase() === "G" ? GIB : MIB);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "256M,1G" },
      mode: { type: "string", default: "sealed" },
      route: { type: "string", default: "split" },
      kind: { type: "string", default: "es" },
    },
  });
  const sizes = (values.size ?? "").split(",").map((s) => [s.trim(), parseSize(s)] as const);
  const modes = (values.mode ?? "").split(",").map((m) => m.trim());
  const routes = (values.route ?? "").split(",").map((r) => r.trim());
  for (const r of routes) if (!(r in ROUTE_FLAGS)) throw new SyntaxError(`Unknown route '${r}'\n${USAGE}`);
  for (const m of modes)
    if (m !== "sealed" && m !== "seed" && m !== "pattern")
      throw new SyntaxError(`Unknown mode '${m}'\n${USAGE}`);
  const kinds = (values.kind ?? "").split(",").map((k) => k.trim());
  for (const k of kinds) if (k !== "es" && k !== "ts") throw new SyntaxError(`Unknown kind '${k}'\n${USAGE}`);
  await mkdir(OUT, { recursive: true });
  // PVRLINK_BIN=source runs bin/pvrlink.ts under this Bun instead of a binary: unminified names in a profile.
  let command =
    process.env.PVRLINK_BIN === "source" ? [process.execPath, join(ROOT, "bin/pvrlink.ts")] : undefined;
  if (!command) {
    let binary = process.env.PVRLINK_BIN;
    if (!binary) {
      await $`${process.execPath} ${join(ROOT, "scripts/build.ts")} x64`.quiet();
      binary = join(ROOT, "dist/pvrlink-linux-x64");
    }
    command = [binary];
  }
  const { recipe, ts } = await benchRecordings(OUT);
  const seeds = { es: join(OUT, "seed.m2v"), ts };
  const runs: Run[] = [];
  for (const kind of kinds)
    for (const [label, size] of sizes) {
      const ext = kind === "ts" ? "ts" : "m2v";
      const seed = seeds[kind as keyof typeof seeds];
      const file = await loopedRecording(seed, size, join(OUT, `transfer-${label.toLowerCase()}.${ext}`));
      for (const route of routes) {
        // Protection modes apply to a split's direct part; a secret send has none.
        for (const mode of route === "secret" ? [modes[0] ?? "sealed"] : modes) {
          // The raw TCP references right before each send, so all see the machine in the same minute.
          const raw = await rawTcpCopy(file);
          const rawFile = join(OUT, ".raw-tcp-copy.tmp");
          const toFile = await rawTcpCopy(file, { toFile: rawFile });
          await rm(rawFile, { force: true });
          const r = await sendOnce(command, file, kind === "ts" ? `${label} TS` : label, { mode, route });
          r.rawMbps = raw.bytes / raw.seconds / 1e6;
          r.rawFileMbps = toFile.bytes / toFile.seconds / 1e6;
          const what = `${label} ${route} ${route === "secret" ? "" : mode}`;
          console.error(
            `${what}: ${r.mbps.toFixed(0)} MB/s, raw TCP ${r.rawMbps.toFixed(0)} MB/s, into a file ${r.rawFileMbps.toFixed(0)} MB/s`,
          );
          runs.push(r);
        }
      }
    }
  const mb = (n: number) => (n / MIB).toFixed(0);
  const cpu = (n: number | undefined) => (n ?? 0).toFixed(2);
  console.log(
    formatTable(
      [
        "recording",
        "route",
        "mode",
        "s",
        "MB/s",
        "raw TCP MB/s",
        "ratio",
        "into file MB/s",
        "ratio",
        "RSS send",
        "node",
        "bob (MiB)",
        "anon send",
        "node",
        "bob",
        "CPU s/GiB send",
        "node",
        "bob",
      ],
      runs.map((r) => [
        r.label,
        r.route,
        r.route === "secret" ? "-" : r.mode,
        r.seconds.toFixed(2),
        r.mbps.toFixed(0),
        r.rawMbps.toFixed(0),
        (r.mbps / r.rawMbps).toFixed(3),
        r.rawFileMbps.toFixed(0),
        (r.mbps / r.rawFileMbps).toFixed(3),
        mb(r.peakRss.send ?? 0),
        mb(r.peakRss.node ?? 0),
        mb(r.peakRss.bob ?? 0),
        mb(r.peakAnon.send ?? 0),
        mb(r.peakAnon.node ?? 0),
        mb(r.peakAnon.bob ?? 0),
        cpu(r.cpuSecondsPerGiB.send),
        cpu(r.cpuSecondsPerGiB.node),
        cpu(r.cpuSecondsPerGiB.bob),
      ]),
    ),
  );
  // Where each role's CPU went, by thread kind: the main thread's JavaScript and native calls, Bun's pool (async
  // file I/O and WebCrypto), the JIT, the collector's helpers, mimalloc's scavenger.
  const kindsSeen = [
    ...new Set(runs.flatMap((r) => Object.values(r.threadSecondsPerGiB).flatMap(Object.keys))),
  ];
  const order = ["main", "pool", "jit", "gc", "scavenger", "http", "other"].filter((k) =>
    kindsSeen.includes(k),
  );
  console.log();
  console.log(
    formatTable(
      ["recording", "route", "mode", "role", ...order.map((k) => `${k} s/GiB`)],
      runs.flatMap((r) =>
        ["send", "node", "bob"].map((role) => [
          r.label,
          r.route,
          r.route === "secret" ? "-" : r.mode,
          role,
          ...order.map((k) => cpu(r.threadSecondsPerGiB[role]?.[k])),
        ]),
      ),
    ),
  );
  await writeFile(
    join(OUT, "transfer.json"),
    `${JSON.stringify({ at: new Date().toISOString(), recipe, runs }, null, 2)}\n`,
  );
}

await main();
