/** @module `bun bench/pattern-stages.ts FILE`: where pattern mode's CPU goes on one recording, stage by stage, beside the indexing seed mode does anyway and the cost of fresh memory. */
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import { CbcsEsCipher } from "../codec/pattern/cbcs-es-cipher.ts";
import { CbcsPatternCipher } from "../codec/pattern/cbcs-pattern-cipher.ts";
import { EsPatternCipher } from "../codec/pattern/es-pattern-cipher.ts";
import { PatternCipher } from "../codec/pattern/pattern-cipher.ts";
import { encodePatternHeader } from "../codec/pattern/pattern-header-encoder.ts";
import { encodePatternHeaderV3 } from "../codec/pattern/pattern-header-v3.ts";
import { ridingPatternPlanners } from "../codec/pattern/riding-pattern-planners.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { makeCbcsTransform } from "../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../crypto/keystream.ts";
import { READ_CHUNK } from "./lib/leak-cost.ts";

// Stages, each its process CPU time, best of BENCH_RUNS rounds (the machine is shared: best is least disturbed):
// - index: pass 1's RecordingIndexer alone, as seed mode runs it (the reference);
// - pass 1: the same indexer with both pattern planners riding it (ridingPatternPlanners), as a send runs it;
// - finish: the plan (pieces kept, protected ranges clipped, direct-body offsets);
// - header: encodePatternHeader() (encodePatternHeaderV3() for a version 3 or 4 plan);
// Each with the sender's plan (version 3 for slice-block in a PS/TS, 4 for H.264 cbcs) and with the version 1 (2) plan, which is what
// the sender made before (`rows` counts a v3/v4 plan's slices + runs, a v1/v2 plan's ranges).
// - cipher: pass 2's routing with the pattern cipher applied to the direct pieces (route alone is ~1 % of it).
// Then the reference for memory: 64 MiB written into fresh typed arrays, and written again.

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MIB = 2 ** 20;

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e3;
}

async function stages(bytes: Uint8Array, esPlan: boolean): Promise<Record<string, number>> {
  const t: Record<string, number> = {};
  let t0 = cpuMs();
  const lap = (name: string) => {
    const now = cpuMs();
    t[name] = now - t0;
    t0 = now;
  };
  Bun.gc(true);
  t0 = cpuMs();
  const plain = new RecordingIndexer();
  for (let at = 0; at < bytes.length; at += READ_CHUNK) plain.push(bytes.subarray(at, at + READ_CHUNK));
  plain.finish();
  lap("index");
  const riding = ridingPatternPlanners({ esPlan });
  for (let at = 0; at < bytes.length; at += READ_CHUNK)
    riding.indexer.push(bytes.subarray(at, at + READ_CHUNK));
  riding.indexer.finish();
  const index = riding.indexer.result();
  lap("pass 1");
  const plan = riding.finish(index);
  lap("finish");
  const body = bytes.length - index.protectedRanges.reduce((a, r) => a + r.length, 0);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const header = plan.es
    ? encodePatternHeaderV3({
        plan: plan.es,
        salt,
        originalSha256: new Uint8Array(32),
        directBodyLength: body,
      })
    : encodePatternHeader({
        scheme: plan.scheme,
        salt,
        originalSha256: new Uint8Array(32),
        directBodyLength: body,
        ranges: plan.ranges,
        ...(plan.scheme.kind === "cbcs" ? { chainStarts: plan.chainStarts ?? [] } : {}),
      });
  lap("header");
  const es = plan.es;
  const cipher = es
    ? es.scheme.kind === "cbcs"
      ? new CbcsEsCipher({ ...es, scheme: es.scheme }, body, await makeCbcsTransform(key, salt, "encrypt"))
      : new EsPatternCipher(es, body, await makePatternKeystream(key, salt))
    : plan.scheme.kind === "cbcs"
      ? new CbcsPatternCipher(
          { ranges: plan.ranges, chainStarts: plan.chainStarts ?? [] },
          body,
          await makeCbcsTransform(key, salt, "encrypt"),
        )
      : new PatternCipher(plan, body, await makePatternKeystream(key, salt));
  const router = new RangeRouter(index.protectedRanges, bytes.length);
  const scratch = new Uint8Array(READ_CHUNK);
  t0 = cpuMs();
  for (let at = 0; at < bytes.length; at += READ_CHUNK) {
    const n = Math.min(READ_CHUNK, bytes.length - at);
    scratch.set(bytes.subarray(at, at + n));
    const routed = router.push(scratch.subarray(0, n));
    if (cipher instanceof CbcsPatternCipher || cipher instanceof CbcsEsCipher)
      for (const d of routed.direct) cipher.push(d);
    else for (const d of routed.direct) cipher.apply(d);
  }
  cipher.finish();
  lap("cipher");
  t.ranges = plan.es ? plan.es.slices.count + plan.es.runCount : plan.ranges.count;
  t.headerMiB = header.length / MIB;
  t.encryptedMiB = plan.encryptedBytes / MIB;
  return t;
}

function freshMemory(): { firstTouch: number; rewrite: number } {
  const blocks: Uint8Array[] = [];
  let t0 = cpuMs();
  for (let i = 0; i < 64; i++) blocks.push(new Uint8Array(MIB).fill(1));
  const firstTouch = cpuMs() - t0;
  t0 = cpuMs();
  for (const b of blocks) b.fill(2);
  return { firstTouch, rewrite: cpuMs() - t0 };
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (path === undefined) throw new TypeError("usage: bun bench/pattern-stages.ts RECORDING");
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const plans = [
    ["sender's plan", true],
    ["version 1 plan", false],
  ] as const;
  const best = plans.map(() => ({}) as Record<string, number>);
  let memory = { firstTouch: Infinity, rewrite: Infinity };
  for (let round = 0; round < RUNS; round++) {
    for (const [i, [, esPlan]] of plans.entries()) {
      for (const [k, v] of Object.entries(await stages(bytes, esPlan)))
        best[i]![k] = Math.min(best[i]![k] ?? Infinity, v);
    }
    const m = freshMemory();
    memory = {
      firstTouch: Math.min(memory.firstTouch, m.firstTouch),
      rewrite: Math.min(memory.rewrite, m.rewrite),
    };
  }
  const gib = bytes.length / 2 ** 30;
  console.log(`${path.split("/").pop()} (${(bytes.length / MIB).toFixed(0)} MiB), best of ${RUNS}\n`);
  for (const [i, [name]] of plans.entries()) {
    const b = best[i]!;
    console.log(
      `${name}: ${b.ranges} rows, ${b.headerMiB!.toFixed(2)} MiB header, ${b.encryptedMiB!.toFixed(1)} MiB encrypted`,
    );
  }
  console.log(`\n| stage | ${plans.map(([n]) => `${n} CPU ms | s/GiB`).join(" | ")} |`);
  console.log(`|---|${plans.map(() => "---|---").join("|")}|`);
  const row = (name: string, ms: (b: Record<string, number>) => number) =>
    console.log(
      `| ${name} | ${best.map((b) => `${ms(b).toFixed(0)} | ${(ms(b) / 1e3 / gib).toFixed(2)}`).join(" | ")} |`,
    );
  row("index (seed's pass 1, the reference)", (b) => b.index!);
  row("pass 1 with the planners riding", (b) => b["pass 1"]!);
  row("finish (plan)", (b) => b.finish!);
  row("pattern header", (b) => b.header!);
  row("pass 2 route + cipher", (b) => b.cipher!);
  row(
    "pattern's share: pass 1 − index + finish + header + cipher",
    (b) => b["pass 1"]! - b.index! + b.finish! + b.header! + b.cipher!,
  );
  console.log(
    `\nfresh memory: 64 MiB first written ${memory.firstTouch.toFixed(0)} ms, written again ${memory.rewrite.toFixed(0)} ms (CPU)`,
  );
}

if (import.meta.main) await main();
