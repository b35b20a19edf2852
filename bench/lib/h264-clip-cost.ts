/** @module The CPU of H.264 cbcs pattern mode against seed on one leak clip, as a Transport Stream looped to tens of MiB: the ratio bench/leak-h264.ts prints beside that clip's views. */
import { DEFAULT_H264_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { generateSessionKeyBytes } from "../../crypto/aead.ts";
import { type CostRun, splitCost } from "./leak-cost.ts";

/** The clip repeated to about this size: each run then takes tens of milliseconds, above the timer's noise. */
export const CLIP_COST_BYTES = 32 * 1024 * 1024;

export interface H264ClipCost {
  /** Best (least CPU) of the interleaved rounds, per mode. */
  seed: CostRun;
  cbcs: CostRun;
  /** cbcs CPU / seed CPU. */
  ratio: number;
  /** Bytes of the looped stream. */
  bytes: number;
}

/**
 * Seed (split + seal) and cbcs 1:9 (seed + plan + AES-CBC) on `ts` repeated to CLIP_COST_BYTES, in `rounds`
 * interleaved rounds. A TS repeated byte for byte restarts its continuity counters and timestamps at each copy;
 * the indexer takes each copy's pictures as they come, so the plan is the clip's, once per copy.
 */
export async function h264ClipCost(ts: Uint8Array, rounds: number): Promise<H264ClipCost> {
  const copies = Math.max(1, Math.ceil(CLIP_COST_BYTES / ts.length));
  const bytes = new Uint8Array(copies * ts.length);
  for (let i = 0; i < copies; i++) bytes.set(ts, i * ts.length);
  const key = generateSessionKeyBytes();
  let seed: CostRun | undefined;
  let cbcs: CostRun | undefined;
  for (let round = 0; round < rounds; round++) {
    const s = await splitCost(bytes, key);
    if (seed === undefined || s.cpu < seed.cpu) seed = s;
    const c = await splitCost(bytes, key, DEFAULT_H264_PATTERN_SCHEME);
    if (cbcs === undefined || c.cpu < cbcs.cpu) cbcs = c;
  }
  return { seed: seed!, cbcs: cbcs!, ratio: cbcs!.cpu / seed!.cpu, bytes: bytes.length };
}
