/** @module `bun bench/cbcs-cipher-ab.ts FILE OLD_TREE [--rounds N]`: the H.264 cbcs cipher phase of this tree against another tree's (a copy of an earlier commit), alternated round by round in one process, main-thread CPU only (CLOCK_THREAD_CPUTIME_ID). */

import { dlopen, FFIType, ptr } from "bun:ffi";
import { join } from "node:path";
import { DEFAULT_H264_PATTERN_SCHEME } from "../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../codec/pattern/riding-pattern-planners.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { READ_CHUNK } from "./lib/leak-cost.ts";

// cbcs-cost-parts.ts runs one tree per process, and at load 5–10 its cipher rows move by more than a change to
// the cipher: here both trees' CbcsEsCipher and cbcs transform are loaded into one process (two module graphs)
// and run in turn on the same plan, so load and heap state fall on both alike. CPU is the main thread's
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), without the JIT compiler and GC threads.

// clock_gettime(CLOCK_THREAD_CPUTIME_ID): exact to the nanosecond. process.threadCpuUsage() (getrusage
// RUSAGE_THREAD) moves in scheduler ticks here (4 ms steps), as /proc's schedstat does, too coarse for a ~2 ms read.
const libc = dlopen("libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
const CLOCK_THREAD_CPUTIME_ID = 3;
const timespec = new BigInt64Array(2);
const timespecPtr = ptr(timespec);

/** Main-thread CPU ms so far. */
function mainThreadMs(): number {
  if (libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, timespecPtr) !== 0)
    throw new Error("Cannot time: clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
  return Number(timespec[0]) * 1e3 + Number(timespec[1]) / 1e6;
}

type Tree = {
  CbcsEsCipher: typeof import("../codec/pattern/cbcs-es-cipher.ts").CbcsEsCipher;
  makeCbcsTransform: typeof import("../crypto/cbcs-cipher.ts").makeCbcsTransform;
};

async function load(root: string): Promise<Tree> {
  const { CbcsEsCipher } = await import(join(root, "codec/pattern/cbcs-es-cipher.ts"));
  const { makeCbcsTransform } = await import(join(root, "crypto/cbcs-cipher.ts"));
  return { CbcsEsCipher, makeCbcsTransform };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--rounds");
  const rounds = at >= 0 ? Number(args[at + 1]) : 30;
  const [file, oldRoot] = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--rounds");
  if (file === undefined || oldRoot === undefined)
    throw new TypeError("usage: bun bench/cbcs-cipher-ab.ts FILE OLD_TREE [--rounds N]");
  const trees: [string, Tree][] = [
    ["old", await load(oldRoot)],
    ["new", await load(join(import.meta.dir, ".."))],
  ];
  const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
  const riding = ridingPatternPlanners({ h264: DEFAULT_H264_PATTERN_SCHEME });
  for (let i = 0; i < bytes.length; i += READ_CHUNK) riding.indexer.push(bytes.subarray(i, i + READ_CHUNK));
  riding.indexer.finish();
  const index = riding.indexer.result();
  const plan = riding.finish(index).es!;
  const scheme = plan.scheme;
  if (scheme.kind !== "cbcs") throw new TypeError(`Cannot time cbcs: ${file} planned ${scheme.kind}`);
  const es = { ...plan, scheme };
  const body = bytes.length - index.protectedRanges.reduce((a, r) => a + r.length, 0);
  const times = new Map<string, number[]>(trees.map(([name]) => [name, []]));
  const digests = new Map<string, string>();
  const scratch = new Uint8Array(READ_CHUNK);
  for (let round = 0; round < rounds; round++) {
    // Which tree goes first alternates, so neither always runs right after the collection.
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    for (const [name, tree] of order) {
      const cipher = await tree.makeCbcsTransform(new Uint8Array(32), new Uint8Array(16), "encrypt");
      const router = new RangeRouter(index.protectedRanges, bytes.length);
      const c = new tree.CbcsEsCipher(es, body, cipher);
      const hash = new Bun.CryptoHasher("sha256");
      Bun.gc(true);
      let ms = 0;
      for (let i = 0; i < bytes.length; i += READ_CHUNK) {
        const n = Math.min(READ_CHUNK, bytes.length - i);
        scratch.set(bytes.subarray(i, i + n));
        const direct = router.push(scratch.subarray(0, n)).direct;
        const t = mainThreadMs();
        const out = c.pushMany(direct);
        ms += mainThreadMs() - t;
        for (const o of out) hash.update(o);
      }
      c.finish();
      times.get(name)!.push(ms);
      const h = hash.digest("hex");
      if ((digests.get(name) ?? h) !== h) throw new Error(`Cannot compare: ${name}'s ciphertext changed`);
      digests.set(name, h);
    }
  }
  if (digests.get("old") !== digests.get("new"))
    throw new Error("Cannot compare: old and new ciphertext differ");
  const loadavg = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.log(`${file.split("/").pop()}, ${rounds} rounds each (first 4 left out), load ${loadavg}`);
  const o = times.get("old")!.slice(4);
  const n = times.get("new")!.slice(4);
  const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))]!;
  for (const [name, xs] of [
    ["old", o],
    ["new", n],
  ] as const)
    console.log(
      `${name}: main-thread ms best ${q(xs, 0).toFixed(2)}, lower quartile ${q(xs, 0.25).toFixed(2)}, median ${q(xs, 0.5).toFixed(2)}`,
    );
  const wins = n.filter((x, i) => x < o[i]!).length;
  console.log(`new below old in ${wins} of ${n.length} rounds; ciphertext SHA-256 ${digests.get("new")}`);
}

if (import.meta.main) await main();
