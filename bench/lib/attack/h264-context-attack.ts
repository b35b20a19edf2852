/**
 * @module The stronger CAVLC attempt on a cbcs view: h264-resync-attack.ts's offsets, check and rebuild, but each
 * candidate run is parsed under several readings of the neighbours the encrypted block hid (none, all without
 * coefficients, all with 16), so the coeff_token table (nC, 9.2.1) and intra prediction of the run's first
 * macroblocks follow a context instead of the fresh slice's "not available".
 */

import { decodeCandidates } from "./h264-candidate-decode.ts";
import { annexBNal, BitWriter, readUeAt } from "./h264-rbsp.ts";
import {
  CAVLC_PROBE_BYTES,
  candidateSlice,
  clearRuns,
  controlRuns,
  type H264ResyncOptions,
  type H264ResyncResult,
  parameterSets,
  placeRun,
  type Run,
  SHORTER_BITS,
  withExtraSlices,
} from "./h264-resync-attack.ts";

/**
 * How the macroblocks before a run (hidden by the encrypted block, or in the row above) are read:
 * - `unavailable`: a fresh slice at the run (h264-resync-attack.ts): nC from the run's own blocks only;
 * - `quiet`: a row and one more of skipped macroblocks before it (total_coeff 0: nC = (nA + 0 + 1) >> 1), the
 *   commonest neighbour in P/B pictures, and intra prediction from them is allowed (constrained_intra_pred 0);
 * - `busy`: the same of I_PCM macroblocks, which count 16 coefficients in every block (9.2.1): nC >= 8.
 * The values between (nC 2 to 7 from a neighbour) would need synthetic coded blocks, which this attempt does not
 * write; ffmpeg, its parser, takes the context only from macroblocks it decoded in the same slice.
 */
export type NeighbourReading = "unavailable" | "quiet" | "busy";
export const NEIGHBOUR_READINGS: readonly NeighbourReading[] = ["unavailable", "quiet", "busy"];

export interface H264ContextOptions extends H264ResyncOptions {
  /** PicWidthInMbs: a row of context is this many macroblocks. */
  widthMbs: number;
  readings?: readonly NeighbourReading[];
}

export interface H264ContextResult extends H264ResyncResult {
  /** Runs recovered under each reading: the first in NEIGHBOUR_READINGS order that passed at any offset, its earliest. */
  byReading: Record<NeighbourReading, number>;
}

/** mb_type of I_PCM: 25 after the inter types, 5 of them in P slices and 23 in B slices (Tables 7-11, 7-13, 7-14). */
const I_PCM_IN_P = 30;
const I_PCM_IN_B = 48;
/** An I_PCM macroblock's samples at 4:2:0, 8 bits: 256 luma and 2 × 64 chroma (7.3.5), mid-grey. */
const PCM_SAMPLES = new Uint8Array(384).fill(0x80);

/** A run's slice under a reading: the synthetic context (`prefix` macroblocks from `firstMb`), then the run. */
export function contextSlice(
  r: Run,
  reading: NeighbourReading,
  o: { firstMb: number; prefix: number; fromBit: number; toBit?: number },
): Uint8Array | undefined {
  if (reading === "unavailable" || o.prefix === 0)
    return candidateSlice(r, {
      firstMb: o.firstMb + o.prefix,
      fromBit: o.fromBit,
      ...(o.toBit ? { toBit: o.toBit } : {}),
    });
  const toBit = o.toBit ?? r.toBit;
  // The run's first syntax element is its mb_skip_run (7.3.4, CAVLC P/B): a quiet prefix adds to it.
  const skip = readUeAt(r.rbsp, o.fromBit, toBit);
  if (!skip) return undefined;
  const w = new BitWriter();
  for (let i = 7; i >= 0; i--) w.bit((r.header.nal >> i) & 1);
  w.ue(o.firstMb);
  w.copy(r.header.rest, 0, r.header.restBits);
  if (reading === "quiet") {
    w.ue(skip.value + o.prefix);
    w.copy(r.rbsp, skip.next, toBit);
  } else {
    for (let i = 0; i < o.prefix; i++) {
      w.ue(0);
      w.ue(r.header.b ? I_PCM_IN_B : I_PCM_IN_P);
      while (w.length % 8 !== 0) w.bit(0);
      w.copy(PCM_SAMPLES, 0, PCM_SAMPLES.length * 8);
    }
    w.copy(r.rbsp, o.fromBit, toBit);
  }
  if (!r.last || o.toBit !== undefined) w.trailing();
  return annexBNal(w.bytes());
}

interface Try {
  run: number;
  offset: number;
  reading: NeighbourReading;
}

/** Runs the attempt on a CAVLC cbcs view; the same result as h264ResyncAttack() plus runs per reading. */
export async function h264ContextAttack(
  view: Uint8Array,
  options: H264ContextOptions,
): Promise<H264ContextResult> {
  if (options.entropy !== "cavlc") throw new TypeError("Cannot carry CAVLC contexts through CABAC slices");
  const readings = options.readings ?? NEIGHBOUR_READINGS;
  const { sets, sps } = parameterSets(options.greyAu);
  const picSize = sps.picSizeInMapUnits;
  // The check's context: a whole row and the left neighbour, so the run starts at column 1 of row 1.
  const prefix = options.widthMbs + 1;
  // Every candidate starts a picture of its own (first_mb_in_slice 0, else ffmpeg joins it to the one before).
  const lead = (reading: NeighbourReading) => (reading === "unavailable" ? 0 : prefix);
  const runs = clearRuns(view, sets, options);
  const probe = options.probeBytes ?? CAVLC_PROBE_BYTES;
  const all = [...runs, ...controlRuns(runs)];
  const tries: Try[] = [];
  const candidates: Uint8Array[] = [];
  for (const [i, r] of all.entries()) {
    const limit = Math.min(r.toBit - r.fromBit - SHORTER_BITS - 8, probe * 8);
    for (let o = 0; o < limit; o++)
      for (const reading of readings) {
        const c = contextSlice(r, reading, { firstMb: 0, prefix: lead(reading), fromBit: r.fromBit + o });
        if (!c) continue;
        candidates.push(c);
        tries.push({ run: i, offset: o, reading });
      }
  }
  const decode = { greyAu: options.greyAu, dir: options.dir, picSize };
  const full = await decodeCandidates(candidates, decode);
  // The synthetic macroblocks decode too: a reading's own count starts after them.
  const own = (k: number) => full[k]!.decodedMbs - lead(tries[k]!.reading);
  const second: number[] = [];
  for (let k = 0; k < tries.length; k++) if (!all[tries[k]!.run]!.last && own(k) >= 2) second.push(k);
  const shortDecoded = await decodeCandidates(
    second.map((k) => {
      const t = tries[k]!;
      const r = all[t.run]!;
      return contextSlice(r, t.reading, {
        firstMb: 0,
        prefix: lead(t.reading),
        fromBit: r.fromBit + t.offset,
        toBit: r.toBit - SHORTER_BITS,
      })!;
    }),
    decode,
  );
  const shortOwn = new Map(second.map((k, j) => [k, shortDecoded[j]!.decodedMbs - lead(tries[k]!.reading)]));
  // An offset passes when any reading passes the check of h264-resync-attack.ts (its first passing reading in
  // NEIGHBOUR_READINGS order counts).
  const passed = new Map<string, Try & { mbs: number }>();
  for (let k = 0; k < tries.length; k++) {
    const t = tries[k]!;
    const r = all[t.run]!;
    const mbs = own(k);
    const short = shortOwn.get(k);
    const ok = r.last ? full[k]!.errors === 0 && mbs > 0 : short !== undefined && mbs > short && short > 0;
    const key = `${t.run}:${t.offset}`;
    if (ok && !passed.has(key)) passed.set(key, { ...t, mbs });
  }
  const offsetsTried = new Set(tries.map((t) => `${t.run}:${t.offset}`));
  const chance = { candidates: 0, valid: 0 };
  let tried = 0;
  for (const key of offsetsTried) {
    if (all[Number(key.split(":")[0])]!.control) chance.candidates++;
    else tried++;
  }
  const best = new Map<number, Try & { mbs: number }>();
  let valid = 0;
  for (const p of passed.values()) {
    if (all[p.run]!.control) {
      chance.valid++;
      continue;
    }
    valid++;
    // A run keeps the attempt's own parse (unavailable) where it had one; quiet, then busy, only add runs it had
    // not: a synthetic context is rebuilt into the view too, and the busy one paints its row grey.
    const b = best.get(p.run);
    const rank = (t: Try) => readings.indexOf(t.reading);
    if (!b || rank(p) < rank(b) || (rank(p) === rank(b) && p.offset < b.offset)) best.set(p.run, p);
  }
  return rebuild(view, runs, best, {
    picSize,
    prefix,
    shifts: options.shifts ?? [],
    stats: { tried, valid, chance },
  });
}

/** The view with each recovered run as a slice at its address, its context prefix before it where it fits. */
function rebuild(
  view: Uint8Array,
  runs: Run[],
  best: Map<number, Try & { mbs: number }>,
  o: {
    picSize: number;
    prefix: number;
    shifts: readonly number[];
    stats: { tried: number; valid: number; chance: { candidates: number; valid: number } };
  },
): H264ContextResult {
  type Extra = Map<number, Array<{ address: number; slice: Uint8Array }>>;
  const extra: Extra = new Map();
  const moved: Extra[] = o.shifts.map(() => new Map());
  const byReading: Record<NeighbourReading, number> = { unavailable: 0, quiet: 0, busy: 0 };
  const placed = { exact: 0, beforeTail: 0, estimate: 0 };
  let macroblocks = 0;
  for (const [i, b] of best) {
    const r = runs[i]!;
    macroblocks += b.mbs;
    byReading[b.reading]++;
    const { address, how } = placeRun(r, b, o.picSize);
    placed[how]++;
    for (const [k, shift] of [0, ...o.shifts].entries()) {
      const at = address + shift;
      if (at <= 0 || at >= o.picSize) continue;
      // Near the picture's top the row above does not exist in the original either: a shorter prefix (a slice
      // must not start at 0, which would begin a new picture: withExtraSlices()).
      const prefix = b.reading === "unavailable" ? 0 : Math.min(o.prefix, at - 1);
      const slice = contextSlice(r, b.reading, {
        firstMb: at - prefix,
        prefix,
        fromBit: r.fromBit + b.offset,
      });
      if (!slice) continue;
      const into = k === 0 ? extra : moved[k - 1]!;
      const list = into.get(r.picture) ?? [];
      list.push({ address: at - prefix, slice });
      into.set(r.picture, list);
    }
  }
  return {
    view: withExtraSlices(view, extra),
    movedViews: moved.map((m) => withExtraSlices(view, m)),
    runs: runs.length,
    candidates: o.stats.tried,
    validCandidates: o.stats.valid,
    control: o.stats.chance,
    recoveredRuns: best.size,
    macroblocks,
    placedExactly: placed.exact,
    placedBeforeTail: placed.beforeTail,
    placedByEstimate: placed.estimate,
    byReading,
  };
}
