/** @module `bun bench/send-path-cost.ts FILE... [--loops N] [--pairs N]`: pattern mode's CPU against seed's in the sender's own send path, each send a fresh process that sends once, on each recording looped to recording size: what a recorder pays, its one-time compiles included. */
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { importSessionKey } from "../crypto/aead.ts";
import { jitThreadCpuSeconds } from "./lib/jit-thread-cpu.ts";
import { median } from "./lib/own-process-pairs.ts";
import { type ProtectionRun, sendSide } from "./lib/send-side-cpu.ts";

// bench/clip-cost.ts and `bench/leak.ts --cost` measure the protection in memory on a clip looped to 32 MiB, after
// warm-up runs in the same process: the mode's own work. A recorder runs `pvrlink send` once per recording, a
// process of its own, through firmware/send (planSend with its spill files, PatternDirectEncoder, the relay's
// sealing, the direct frames' tags), and sends hundreds of MiB or more. This measures that: sendSide() (no
// sockets, which cost the same in both modes) once per fresh process on the file repeated LOOPS times, seed and
// pattern alternated in pairs, each pair's ratio one sample.

const OUT = join(import.meta.dir, "out", "send-path");
const DEFAULT_LOOPS = 32;
const DEFAULT_PAIRS = 3;
const GIB = 1024 ** 3;

interface ChildRun {
  /** User + system CPU seconds of the send, every thread. */
  cpu: number;
  /** Of the process's CPU, JavaScriptCore's compiler threads' (jit-thread-cpu.ts), module loading included. */
  jit: number;
  wall: number;
}

async function child(path: string, mode: ProtectionRun): Promise<ChildRun> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const key = await importSessionKey(raw);
  const c0 = process.cpuUsage();
  const t0 = Bun.nanoseconds();
  await sendSide(path, mode, raw, key);
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, jit: jitThreadCpuSeconds(), wall: (Bun.nanoseconds() - t0) / 1e9 };
}

async function inOwnProcess(path: string, mode: ProtectionRun): Promise<ChildRun> {
  const p = Bun.spawn([process.execPath, import.meta.path, "--child", path, mode], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`Cannot measure ${mode} on ${path}: the child failed`);
  return JSON.parse(out) as ChildRun;
}

/** `file` repeated `loops` times under OUT (kept between runs: it is the same bytes); `file` itself for 1. */
async function looped(file: string, loops: number): Promise<string> {
  if (loops === 1) return file;
  const ext = extname(file);
  const path = join(OUT, `${basename(file, ext)}.x${loops}${ext}`);
  if (existsSync(path)) return path;
  await mkdir(OUT, { recursive: true });
  const out = await open(`${path}.part`, "w");
  try {
    for (let i = 0; i < loops; i++) for await (const chunk of createReadStream(file)) await out.write(chunk);
  } finally {
    await out.close();
  }
  await rename(`${path}.part`, path);
  return path;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`Cannot read ${name}: ${args[at + 1]} is not a count`);
  return n;
}

async function main(args: string[]): Promise<void> {
  const loops = option(args, "--loops", DEFAULT_LOOPS);
  const pairs = option(args, "--pairs", DEFAULT_PAIRS);
  const files = args.filter(
    (a, i) => !a.startsWith("--") && args[i - 1] !== "--loops" && args[i - 1] !== "--pairs",
  );
  if (files.length === 0) throw new RangeError("Cannot measure: name at least one recording");
  const load = async () => (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.log(
    `send-path-cost: pattern against seed, ${pairs} alternating pairs, one send per process, load ${await load()}\n`,
  );
  console.log(
    "| recording | MiB | pairs (pattern / seed) | median | seed CPU s/GiB | pattern CPU s/GiB | of which compiler threads, seed / pattern |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const file of files) {
    const path = await looped(file, loops);
    const bytes = Bun.file(path).size;
    const seed: ChildRun[] = [];
    const pattern: ChildRun[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which goes first, so a busy moment does not always land on the same mode.
      if (i % 2 === 0) {
        seed.push(await inOwnProcess(path, "seed"));
        pattern.push(await inOwnProcess(path, "pattern"));
      } else {
        pattern.push(await inOwnProcess(path, "pattern"));
        seed.push(await inOwnProcess(path, "seed"));
      }
    }
    const ratios = pattern.map((p, i) => p.cpu / seed[i]!.cpu);
    const perGiB = (rs: ChildRun[]) => median(rs.map((r) => (r.cpu * GIB) / bytes)).toFixed(2);
    const jit = (rs: ChildRun[]) => median(rs.map((r) => (r.jit * GIB) / bytes)).toFixed(2);
    console.log(
      `| ${basename(path)} | ${(bytes / 2 ** 20).toFixed(0)} | ${ratios.map((r) => r.toFixed(2)).join(" ")} | ${median(ratios).toFixed(2)}× | ${perGiB(seed)} | ${perGiB(pattern)} | ${jit(seed)} / ${jit(pattern)} |`,
    );
  }
  console.log(`\nload ${await load()} after`);
}

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(await child(process.argv[3]!, process.argv[4] as ProtectionRun)));
} else if (import.meta.main) await main(process.argv.slice(2));
