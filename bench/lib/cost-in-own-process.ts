/** @module One protection mode's CPU cost measured in a process of its own, as a sender runs one mode per process: the runs of other modes leave no heap behind for it to pay for. */
import type { PatternScheme } from "../../codec/pattern/pattern-scheme.ts";
import { generateSessionKeyBytes } from "../../crypto/aead.ts";
import { type CostRun, heldInChunks, splitCost, wholeFileCost } from "./leak-cost.ts";

/** What one child measures: a recording file and the mode to run on it. */
export interface CostSpec {
  path: string;
  /** Pattern mode on top of seed; absent: seed. */
  scheme?: PatternScheme;
  /** false: the version 1/2 plan (a row per range) instead of the ES-coordinate one. */
  esPlan?: boolean;
  /** Seal every byte instead (the "secret" attribute's path); `scheme` is ignored. */
  whole?: boolean;
  /** Hold the recording as 4 MiB arrays of their own instead of one (leak-cost.ts, HeldRecording). */
  chunks?: boolean;
  /** Unmeasured runs before the measured ones (WARM_RUNS when absent). */
  warm?: number;
}

/** The least disturbed measured run, and the least CPU of a measured run once its JIT compiler threads' is taken out. */
export interface OwnProcessCost extends CostRun {
  /**
   * min over the measured runs of cpu − jit: what the mode's own work cost when the compiles that landed in
   * the measured runs are left out. Not the headline: that is `cpu`, compiles and all, as earlier rounds measured.
   */
  lessJit: number;
}

/**
 * Why a child per run: measured in one process, interleaved with the other modes, a mode pays for the heap
 * they leave (the version 1/2 plans' tables, whole-file sealing's buffers): cbcs 1:9 on the 60 MiB H.264 TS
 * measured 2.0–2.2× seed beside four other modes and 1.5× beside seed alone, in the same minute. The child
 * runs the mode WARM_RUNS times unmeasured, then MEASURED_RUNS times and reports the least CPU: the JIT's
 * compiler threads count in the process's CPU, and a fresh process compiles for its first few runs (seed
 * measured 2× its steady cost on its second run), as a real send does only in its first MiB.
 */
export async function costInOwnProcess(spec: CostSpec): Promise<OwnProcessCost> {
  const child = Bun.spawn([process.execPath, import.meta.path, JSON.stringify(spec)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(child.stdout).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`Cannot measure ${JSON.stringify(spec)}: the child exited with ${code}`);
  return JSON.parse(out) as OwnProcessCost;
}

const WARM_RUNS = 3;
const MEASURED_RUNS = 2;

async function runChild(spec: CostSpec): Promise<OwnProcessCost> {
  const file = new Uint8Array(await Bun.file(spec.path).arrayBuffer());
  const bytes = spec.chunks ? heldInChunks(file) : file;
  const key = generateSessionKeyBytes();
  const once = () =>
    spec.whole
      ? wholeFileCost(bytes, key)
      : splitCost(bytes, key, spec.scheme, spec.esPlan === false ? { esPlan: false } : {});
  for (let i = 0; i < (spec.warm ?? WARM_RUNS); i++) await once();
  let best: CostRun | undefined;
  let lessJit = Number.POSITIVE_INFINITY;
  for (let i = 0; i < MEASURED_RUNS; i++) {
    const r = await once();
    if (best === undefined || r.cpu < best.cpu) best = r;
    lessJit = Math.min(lessJit, r.cpu - r.jit);
  }
  return { ...best!, lessJit };
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? "") as CostSpec;
  process.stdout.write(JSON.stringify(await runChild(spec)));
}
