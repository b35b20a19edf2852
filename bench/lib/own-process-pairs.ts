/** @module Alternating pairs of own-process cost runs, seed and pattern: each pair's ratio is one sample, taken in the same minute's load. */
import { type CostSpec, costInOwnProcess, type OwnProcessCost } from "./cost-in-own-process.ts";

// Why pairs rather than a ratio of two bests: bench/cost-pairs.ts says.

/** One pair's runs and pattern's CPU over seed's. */
export interface CostPair {
  seed: OwnProcessCost;
  pattern: OwnProcessCost;
  ratio: number;
  /** The same with each side's JIT compiler threads' CPU taken out (OwnProcessCost's `lessJit`). */
  ratioLessJit: number;
}

/** `pairs` alternating own-process pairs of seed (`base`) and pattern (`pattern`) runs. */
export async function costPairs(base: CostSpec, pattern: CostSpec, pairs: number): Promise<CostPair[]> {
  const out: CostPair[] = [];
  for (let i = 0; i < pairs; i++) {
    let seed: OwnProcessCost;
    let mode: OwnProcessCost;
    if (i % 2 === 0) {
      seed = await costInOwnProcess(base);
      mode = await costInOwnProcess(pattern);
    } else {
      mode = await costInOwnProcess(pattern);
      seed = await costInOwnProcess(base);
    }
    out.push({ seed, pattern: mode, ratio: mode.cpu / seed.cpu, ratioLessJit: mode.lessJit / seed.lessJit });
  }
  return out;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
