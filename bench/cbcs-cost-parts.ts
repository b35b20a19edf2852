/** @module `bun bench/cbcs-cost-parts.ts [FILE] [--rounds N]`: H.264 cbcs pattern mode's extra CPU part by part, in one process: pass 1 against seed's, the planner's finish(), and the cipher phase alone (walk, walk with gather and scatter, with AES), with page faults. */

import { join } from "node:path";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import { CbcsEsCipher } from "../codec/pattern/cbcs-es-cipher.ts";
import { CbcsEsWalk } from "../codec/pattern/cbcs-es-walk.ts";
import type { CbcsBlockCipher } from "../codec/pattern/cbcs-pattern-cipher.ts";
import { DEFAULT_H264_PATTERN_SCHEME } from "../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../codec/pattern/riding-pattern-planners.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { makeCbcsTransform } from "../crypto/cbcs-cipher.ts";
import { READ_CHUNK } from "./lib/leak-cost.ts";

// pattern-cost-phases.ts times whole splitCost() runs phase by phase; this takes cbcs's extra apart further, each
// part on its own, so a change to one part shows in its own row and not in the noise of the others. Every round
// starts from a collected heap except where a part's fresh memory is what is measured (finish()).

/** CPU ms and minor page faults since `from`. */
function since(from: { cpu: number; pf: number }): { cpu: number; pf: number } {
  const c = process.cpuUsage();
  return { cpu: (c.user + c.system) / 1e3 - from.cpu, pf: process.resourceUsage().minorPageFault - from.pf };
}

function now(): { cpu: number; pf: number } {
  return since({ cpu: 0, pf: 0 });
}

function pass1(bytes: Uint8Array, cbcs: boolean) {
  const planner = cbcs ? ridingPatternPlanners({ h264: DEFAULT_H264_PATTERN_SCHEME }) : undefined;
  const indexer = planner?.indexer ?? new RecordingIndexer();
  for (let at = 0; at < bytes.length; at += READ_CHUNK) indexer.push(bytes.subarray(at, at + READ_CHUNK));
  indexer.finish();
  return { planner, index: indexer.result() };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--rounds");
  const rounds = at >= 0 ? Number(args[at + 1]) : 12;
  const path = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--rounds");
  const file = path ?? join(import.meta.dir, "out", "h264-cost.ts");
  const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
  const key = new Uint8Array(32);
  const salt = new Uint8Array(16);
  const samples = new Map<string, { cpu: number; pf: number }[]>();
  const add = (name: string, r: { cpu: number; pf: number }) =>
    samples.set(name, [...(samples.get(name) ?? []), r]);
  const noAes: CbcsBlockCipher = () => {};
  let digest: string | undefined;
  for (let round = 0; round < rounds; round++) {
    for (const cbcs of [false, true]) {
      Bun.gc(true);
      const t = now();
      pass1(bytes, cbcs);
      add(cbcs ? "pass 1, cbcs" : "pass 1, seed", since(t));
    }
    Bun.gc(true);
    const { planner, index } = pass1(bytes, true);
    // No collection here: the plan is made right after pass 1, in the heap pass 1 left.
    const t = now();
    const plan = planner!.finish(index).es!;
    add("planner finish()", since(t));
    const scheme = plan.scheme;
    if (scheme.kind !== "cbcs") throw new TypeError(`Cannot time cbcs: ${file} planned ${scheme.kind}`);
    const es = { ...plan, scheme };
    const body = bytes.length - index.protectedRanges.reduce((a, r) => a + r.length, 0);
    Bun.gc(true);
    const w = now();
    const walk = new CbcsEsWalk(es);
    const pieces = new Float64Array(2 * 1024);
    const flags = new Uint8Array(1024);
    while (walk.fill(pieces, flags) > 0);
    add("cipher: walk", since(w));
    for (const [name, cipher] of [
      ["cipher: walk, gather, scatter", noAes],
      ["cipher: all (AES-CBC encrypt)", await makeCbcsTransform(key, salt, "encrypt")],
    ] as const) {
      // As splitCost() pass 2: each 4 MiB read copied into one scratch buffer, routed, its direct pieces ciphered.
      const scratch = new Uint8Array(READ_CHUNK);
      const router = new RangeRouter(index.protectedRanges, bytes.length);
      const c = new CbcsEsCipher(es, body, cipher);
      const hash = cipher === noAes ? undefined : new Bun.CryptoHasher("sha256");
      Bun.gc(true);
      let sum = { cpu: 0, pf: 0 };
      for (let at = 0; at < bytes.length; at += READ_CHUNK) {
        const n = Math.min(READ_CHUNK, bytes.length - at);
        scratch.set(bytes.subarray(at, at + n));
        const direct = router.push(scratch.subarray(0, n)).direct;
        const t0 = now();
        const out = c.pushMany(direct);
        const d = since(t0);
        sum = { cpu: sum.cpu + d.cpu, pf: sum.pf + d.pf };
        for (const o of out) hash?.update(o);
      }
      c.finish();
      add(name, sum);
      // Key and salt are fixed: the ciphertext must hash the same in every round and before and after a change.
      const h = hash?.digest("hex");
      if (h !== undefined && digest !== undefined && h !== digest)
        throw new Error("Cannot compare: ciphertext changed");
      digest ??= h;
    }
  }
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.log(`\n${file.split("/").pop()}, ${rounds} rounds (the first two left out), load ${load}\n`);
  console.log("| part | CPU ms best / median | page faults best / median |");
  console.log("|---|---|---|");
  for (const [name, runs] of samples) {
    const kept = runs.slice(2);
    const cpu = kept.map((r) => r.cpu).sort((a, b) => a - b);
    const pf = kept.map((r) => r.pf).sort((a, b) => a - b);
    const m = kept.length >> 1;
    console.log(`| ${name} | ${cpu[0]!.toFixed(1)} / ${cpu[m]!.toFixed(1)} | ${pf[0]} / ${pf[m]} |`);
  }
  console.log(`\nciphertext SHA-256 (key and salt zero): ${digest}`);
}

if (import.meta.main) await main();
