/** @module Transfer bench: a 256 MiB and a 1 GiB MPEG-2 recording sent end to end over loopback (node + two recorders, compiled binary), MB/s and each process's peak RSS. */
import { existsSync, statSync } from "node:fs";
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { Cluster } from "../demo/cluster.ts";
import type { SendResult } from "../firmware/send/send-recording.ts";
import { benchRecordings } from "./lib/bench-recordings.ts";
import { formatTable } from "./lib/format-table.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out");
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Peak resident set (VmHWM, kB → bytes) of a live process; 0 once it is gone. */
async function vmHwm(pid: number): Promise<number> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The seed looped (byte concatenation, each copy opens with a sequence header) to at least `bytes`. */
async function loopedRecording(seed: string, bytes: number, path: string): Promise<string> {
  if (existsSync(path) && statSync(path).size >= bytes) return path;
  const seedBytes = new Uint8Array(await Bun.file(seed).arrayBuffer());
  await using out = await open(path, "w");
  for (let n = 0; n < bytes; n += seedBytes.length) await out.write(seedBytes);
  return path;
}

interface Run {
  label: string;
  bytes: number;
  seconds: number;
  mbps: number;
  summary: SendResult;
  peakRss: Record<string, number>;
}

async function sendOnce(command: string[], file: string, label: string): Promise<Run> {
  await using cluster = await Cluster.start({ command });
  const alice = await cluster.addRecorder("alice");
  const bob = await cluster.addRecorder("bob");
  await cluster.ok(["permit", "add", "alice", "--data", bob.dataDir]);
  const bytes = statSync(file).size;
  const t0 = Bun.nanoseconds();
  const send = Bun.spawn([...command, "send", file, "--to", "bob", "--json", "--data", alice.dataDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const peak: Record<string, number> = { send: 0, node: 0, alice: 0, bob: 0 };
  const pids: Record<string, number> = {
    send: send.pid,
    node: cluster.node.pid,
    alice: alice.proc.pid,
    bob: bob.proc.pid,
  };
  let running = true;
  const sampler = (async () => {
    while (running) {
      for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k] ?? 0, await vmHwm(pid));
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
  for (const k of ["node", "alice", "bob"]) peak[k] = Math.max(peak[k] ?? 0, await vmHwm(pids[k] as number));
  const stdout = await stdoutP;
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.includes('"event":"summary"'));
  if (code !== 0 || !line)
    throw new Error(`bench: send exited ${code}: ${await stderrP}\n${stdout.slice(-1000)}`);
  const summary = JSON.parse(line) as SendResult;
  return { label, bytes, seconds, mbps: bytes / seconds / 1e6, summary, peakRss: peak };
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  let binary = process.env.PVRLINK_BIN;
  if (!binary) {
    await $`${process.execPath} ${join(ROOT, "scripts/build.ts")} x64`.quiet();
    binary = join(ROOT, "dist/pvrlink-linux-x64");
  }
  const { recipe } = await benchRecordings(OUT);
  const seed = join(OUT, "seed.m2v");
  const small = await loopedRecording(seed, 256 * MIB, join(OUT, "transfer-256m.m2v"));
  const large = await loopedRecording(seed, GIB, join(OUT, "transfer-1g.m2v"));
  const runs: Run[] = [];
  for (const [label, file] of [
    ["256 MiB", small],
    ["1 GiB", large],
  ] as const) {
    const r = await sendOnce([binary], file, label);
    console.error(`${label}: ${r.mbps.toFixed(0)} MB/s`);
    runs.push(r);
  }
  const mb = (n: number) => (n / MIB).toFixed(0);
  console.log(
    formatTable(
      [
        "recording",
        "bytes",
        "s",
        "MB/s",
        "direct B",
        "relay B (sealed)",
        "I-pics",
        "RSS send",
        "node",
        "alice",
        "bob (MiB)",
      ],
      runs.map((r) => [
        r.label,
        String(r.bytes),
        r.seconds.toFixed(2),
        r.mbps.toFixed(0),
        String(r.summary.bytesDirect),
        String(r.summary.bytesRelay),
        String(r.summary.iPictures ?? 0),
        mb(r.peakRss.send ?? 0),
        mb(r.peakRss.node ?? 0),
        mb(r.peakRss.alice ?? 0),
        mb(r.peakRss.bob ?? 0),
      ]),
    ),
  );
  const [a, b] = runs as [Run, Run];
  const growth = Object.fromEntries(
    Object.keys(a.peakRss).map((k) => [k, (b.peakRss[k] ?? 0) / Math.max(1, a.peakRss[k] ?? 0)]),
  );
  console.log(
    `peak RSS 1 GiB / 256 MiB: ${Object.entries(growth)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ")}`,
  );
  await writeFile(
    join(OUT, "transfer.json"),
    `${JSON.stringify({ at: new Date().toISOString(), recipe, runs, rssGrowth1GiBOver256MiB: growth }, null, 2)}\n`,
  );
}

await main();
