/**
 * @module The H.264-aware re-synchronising attempt on a cbcs view: after each encrypted block of a P/B slice it
 * tries every offset of the clear run that follows, keeps the parses of the macroblock layer that stay valid to
 * the run's end, and rebuilds them as fresh slices for ffmpeg to decode.
 */

import { cbcsSliceBlocks } from "../../../codec/container/cbcs-slice-blocks.ts";
import { parseH264Pps } from "../../../codec/container/h264-pps.ts";
import { type H264ParameterSets, parseH264SliceHeader } from "../../../codec/container/h264-slice-header.ts";
import { type H264Sps, parseH264Sps } from "../../../codec/container/h264-sps.ts";
import { DEFAULT_H264_PATTERN_SCHEME, PATTERN_BLOCK_BYTES } from "../../../codec/pattern/pattern-scheme.ts";
import { randomBytes } from "../../../crypto/random-token.ts";
import { h264EsLayout } from "../h264-leak-view.ts";
import { decodeCandidates } from "./h264-candidate-decode.ts";
import { annexBNal, BitWriter, readUeAt, unescapeRbsp } from "./h264-rbsp.ts";

/** Coded slice NAL unit types, ITU-T H.264 Table 7-1; and the type mask of the NAL header byte. */
const NAL_SLICE = 1;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_TYPE_MASK = 0x1f;
/** slice_type % 5 of I slices, Table 7-6. */
const SLICE_I = 2;
const SLICE_B = 1;
/** The NAL header is one byte; first_mb_in_slice is the first syntax element after it, 7.3.3. */
const NAL_HEADER_BITS = 8;
/** CAVLC: bit offsets tried at the start of each clear run (a macroblock boundary lies within a few macroblocks). */
export const CAVLC_PROBE_BYTES = 16;
/** How much shorter the second decode of a run is (see isValid): 8 bytes, more than most P/B macroblocks. */
export const SHORTER_BITS = 64;
/** One cut run in this many gets a random-bytes control (see H264ResyncResult.control). */
export const CONTROL_EVERY = 4;

export interface H264ResyncOptions {
  /** The entropy coder, as the clear PPS says: CAVLC is probed at every bit, CABAC at every byte (its data is byte-aligned). */
  entropy: "cabac" | "cavlc";
  /** The attacker's parameter sets: the grey access unit whose SPS/PPS the view's I pictures carry. */
  greyAu: Uint8Array;
  /** Scratch directory for the candidate streams ffmpeg decodes. */
  dir: string;
  /** Bytes of each clear run probed (default: CAVLC 16, CABAC the whole run). */
  probeBytes?: number;
  /** false: the view has no encrypted last block per slice (the layout before it). */
  tail?: boolean;
  /** Also rebuild the view with every recovered slice moved by each of these many macroblocks (a placement control). */
  shifts?: readonly number[];
}

/** What the attempt found, and the rebuilt view. */
export interface H264ResyncResult {
  /** The view with the recovered slices appended to their pictures, for ffmpeg. */
  view: Uint8Array;
  /** The same with every recovered slice moved by options.shifts[i] macroblocks: what a misplacement gives. */
  movedViews: Uint8Array[];
  /** Clear runs after an encrypted block, over all P/B slices. */
  runs: number;
  /** Offsets tried (each one or two candidate slices decoded by ffmpeg). */
  candidates: number;
  /** Candidates whose macroblock parse reached the run's end without an invalid code. */
  validCandidates: number;
  /** The same check on random bytes in place of every CONTROL_EVERY-th cut run: offsets tried, offsets passed. */
  control: { candidates: number; valid: number };
  /** Runs with at least one valid candidate, and their macroblocks (the earliest valid offset's). */
  recoveredRuns: number;
  macroblocks: number;
  /** Recovered runs placed exactly (the slice's last run: counted back from the picture's end) and by estimate. */
  placedExactly: number;
  /** Recovered runs that end at a slice's encrypted last block: counted back from the picture's end, less a guess. */
  placedBeforeTail: number;
  placedByEstimate: number;
}

export interface Run {
  picture: number;
  /** The slice header's RBSP bits after first_mb_in_slice, and its NAL header byte; b: a B slice. */
  header: { nal: number; rest: Uint8Array; restBits: number; cabac: boolean; b: boolean };
  rbsp: Uint8Array;
  fromBit: number;
  toBit: number;
  /** The run ends the slice: its RBSP already holds the trailing bits. */
  last: boolean;
  /** The run ends at the slice's encrypted last block: its macroblocks end a few before the picture's last. */
  beforeTail: boolean;
  /** Share of the slice's data bytes before the run: the estimate of its first macroblock's address. */
  share: number;
  firstMb: number;
  /** A control run: random bytes where the clear run was. */
  control?: boolean;
}

/** Runs the attempt on a cbcs view (Annex B, I access units grey, P/B slices with their 1:9 blocks encrypted). */
export async function h264ResyncAttack(
  view: Uint8Array,
  options: H264ResyncOptions,
): Promise<H264ResyncResult> {
  const { sets, sps } = parameterSets(options.greyAu);
  const picSize = sps.picSizeInMapUnits;
  const runs = clearRuns(view, sets, options);
  const probe =
    options.probeBytes ?? (options.entropy === "cavlc" ? CAVLC_PROBE_BYTES : Number.MAX_SAFE_INTEGER);
  const step = options.entropy === "cavlc" ? 1 : 8;
  const all = [...runs, ...controlRuns(runs)];
  // Pass 1: every offset's candidate to the run's end. Pass 2: the same run cut SHORTER_BITS earlier, only
  // where the check can still pass (a cut run needs full > short > 0 macroblocks, so full >= 2): a wrong offset
  // mostly fails in its first macroblock, so pass 2 decodes a few percent of pass 1's candidates.
  const candidates: Uint8Array[] = [];
  const owner: Array<{ run: number; offset: number }> = [];
  for (const [i, r] of all.entries()) {
    const limit = Math.min(r.toBit - r.fromBit - SHORTER_BITS - 8, probe * 8);
    for (let o = 0; o < limit; o += step) {
      candidates.push(candidateSlice(r, { firstMb: 0, fromBit: r.fromBit + o }));
      owner.push({ run: i, offset: o });
    }
  }
  const decode = { greyAu: options.greyAu, dir: options.dir, picSize };
  const outcomes = await decodeCandidates(candidates, decode);
  const second: number[] = [];
  for (let k = 0; k < outcomes.length; k++) {
    const r = all[owner[k]!.run]!;
    if (!r.last && outcomes[k]!.decodedMbs >= 2) second.push(k);
  }
  const shortOutcomes = await decodeCandidates(
    second.map((k) => {
      const r = all[owner[k]!.run]!;
      return candidateSlice(r, {
        firstMb: 0,
        fromBit: r.fromBit + owner[k]!.offset,
        toBit: r.toBit - SHORTER_BITS,
      });
    }),
    decode,
  );
  const shortOf = new Map(second.map((k, j) => [k, shortOutcomes[j]!]));
  const best = new Map<number, { offset: number; mbs: number }>();
  let valid = 0;
  let tried = 0;
  const chance = { candidates: 0, valid: 0 };
  for (let k = 0; k < outcomes.length; k++) {
    const { run, offset } = owner[k]!;
    const r = all[run]!;
    const full = outcomes[k]!;
    if (r.control) chance.candidates++;
    else tried++;
    // The slice's last run ends where the slice does: a right parse ends there cleanly, with no error at all.
    // A run cut by an encrypted block ends inside a macroblock: a right parse fails only for want of bits, so
    // the same run cut 8 bytes shorter fails earlier; a wrong one fails at its invalid code either way.
    let ok: boolean;
    if (r.last) ok = full.errors === 0 && full.decodedMbs > 0;
    else {
      const short = shortOf.get(k);
      ok = short !== undefined && full.decodedMbs > short.decodedMbs && short.decodedMbs > 0;
    }
    if (!ok) continue;
    if (r.control) {
      chance.valid++;
      continue;
    }
    valid++;
    if (!best.has(run)) best.set(run, { offset, mbs: full.decodedMbs });
  }
  // Rebuild: each recovered run becomes a slice of its picture at its address (exact for a slice's last run,
  // whose macroblocks end at the picture's last; else the run's share of the slice's bytes, an estimate).
  const extra = new Map<number, Array<{ address: number; slice: Uint8Array }>>();
  const shifts = options.shifts ?? [];
  const moved = shifts.map(() => new Map<number, Array<{ address: number; slice: Uint8Array }>>());
  let macroblocks = 0;
  let exact = 0;
  let estimated = 0;
  let nearEnd = 0;
  for (const [i, b] of best) {
    const r = runs[i]!;
    macroblocks += b.mbs;
    const { address, how } = placeRun(r, b, picSize);
    if (how === "exact") exact++;
    else if (how === "beforeTail") nearEnd++;
    else estimated++;
    for (const [k, shift] of [0, ...shifts].entries()) {
      const at = address + shift;
      if (at <= 0 || at >= picSize) continue;
      const into = k === 0 ? extra : moved[k - 1]!;
      const list = into.get(r.picture) ?? [];
      list.push({ address: at, slice: candidateSlice(r, { firstMb: at, fromBit: r.fromBit + b.offset }) });
      into.set(r.picture, list);
    }
  }
  return {
    view: withExtraSlices(view, extra),
    movedViews: moved.map((m) => withExtraSlices(view, m)),
    runs: runs.length,
    candidates: tried,
    validCandidates: valid,
    control: chance,
    recoveredRuns: best.size,
    macroblocks,
    placedExactly: exact,
    placedBeforeTail: nearEnd,
    placedByEstimate: estimated,
  };
}

/**
 * The control runs: every CONTROL_EVERY-th run cut by an encrypted block again, its clear bytes replaced by
 * random ones. The share of offsets a check passes there is what it passes by chance.
 */
export function controlRuns(runs: readonly Run[]): Run[] {
  return runs
    .filter((r, i) => !r.last && i % CONTROL_EVERY === 0)
    .map((r) => {
      const rbsp = r.rbsp.slice();
      rbsp.set(randomBytes(r.toBit / 8 - r.fromBit / 8), r.fromBit / 8);
      return { ...r, rbsp, control: true };
    });
}

export function parameterSets(au: Uint8Array): { sets: H264ParameterSets; sps: H264Sps } {
  const spsById = new Map<number, H264Sps>();
  const ppsById = new Map<number, ReturnType<typeof parseH264Pps>>();
  for (const { from, to } of nalUnits(au)) {
    const type = au[from]! & NAL_TYPE_MASK;
    const { rbsp } = unescapeRbsp(au, from, to);
    if (type === NAL_SPS) {
      const s = parseH264Sps(rbsp, 0, rbsp.length);
      spsById.set(s.spsId, s);
    } else if (type === NAL_PPS) {
      const p = parseH264Pps(rbsp, 0, rbsp.length, [...spsById.values()][0]?.picSizeInMapUnits);
      ppsById.set(p.ppsId, p);
    }
  }
  const sps = [...spsById.values()][0];
  if (!sps) throw new RangeError("Cannot attack the view: the grey access unit has no SPS");
  return { sets: { sps: (id) => spsById.get(id), pps: (id) => ppsById.get(id) }, sps };
}

/** NAL units of an Annex B stream: [from, to) without the start code, from at the NAL header byte. */
function nalUnits(es: Uint8Array): Array<{ from: number; to: number }> {
  const starts: number[] = [];
  for (let i = 2; i < es.length; i++) {
    if (es[i] === 1 && es[i - 1] === 0 && es[i - 2] === 0) starts.push(i + 1);
  }
  return starts.map((from, k) => {
    let to = k + 1 < starts.length ? starts[k + 1]! - 3 : es.length;
    while (to > from && es[to - 1] === 0) to--;
    return { from, to };
  });
}

/** Every clear run after an encrypted block of every P/B slice of the view, with what a candidate needs. */
export function clearRuns(view: Uint8Array, sets: H264ParameterSets, options: H264ResyncOptions): Run[] {
  const layout = h264EsLayout(view);
  const scheme = {
    ...(DEFAULT_H264_PATTERN_SCHEME as { crypt: number; skip: number }),
    tail: options.tail !== false,
  };
  const out: Run[] = [];
  let s = 0;
  for (const [pi, p] of layout.pictures.entries()) {
    const end = p.offset + p.length;
    for (; s < layout.slices.length && layout.slices[s]!.nalStart < end; s++) {
      const sl = layout.slices[s]!;
      if (p.type === "I" || sl.dataStart < 0) continue;
      let h = sl.nalStart;
      while (view[h] !== 1) h++;
      h++;
      const type = view[h]! & NAL_TYPE_MASK;
      if (type !== NAL_SLICE && type !== NAL_IDR) continue;
      let header: ReturnType<typeof parseH264SliceHeader>;
      try {
        header = parseH264SliceHeader(view, h, sl.nalEnd, sets);
      } catch {
        continue;
      }
      if (header.sliceType === SLICE_I) continue;
      const { rbsp, at } = unescapeRbsp(view, h, sl.nalEnd);
      const rbspIndex = (byte: number) => {
        let i = 0;
        while (i < at.length && at[i]! < byte) i++;
        return i;
      };
      const headerBits =
        rbspIndex(header.dataOffset) * 8 - (header.dataBitInByte ? 8 - header.dataBitInByte : 0);
      const ue = readUeAt(rbsp, NAL_HEADER_BITS, headerBits);
      if (!ue) continue;
      // Without CABAC's alignment bits: a rewritten first_mb_in_slice changes how many the header needs.
      const rest = new BitWriter();
      rest.copy(rbsp, ue.next, headerBits - header.cabacAlignmentBits);
      const cabac = options.entropy === "cabac";
      const b = header.sliceType === SLICE_B;
      const info = { nal: rbsp[0]!, rest: rest.bytes(), restBits: rest.length, cabac, b };
      const dataBytes = sl.nalEnd - sl.dataStart;
      // The encrypted blocks are public (cbcsSliceBlocks(): the 1:9 pattern, then the slice's last block); each
      // clear run lies between one and the next, the last one (if the slice has no tail block) to the slice end.
      const blocks: Array<{ at: number; chain: boolean }> = [];
      cbcsSliceBlocks(sl.dataStart, sl.nalEnd, scheme, (at, chain) => blocks.push({ at, chain }));
      for (const [k, b] of blocks.entries()) {
        const next = blocks[k + 1];
        const runStart = b.at + PATTERN_BLOCK_BYTES;
        const runEnd = next?.at ?? sl.nalEnd;
        if (runEnd - runStart < 2) continue;
        out.push({
          picture: pi,
          header: info,
          rbsp,
          fromBit: rbspIndex(runStart) * 8,
          toBit: rbspIndex(runEnd) * 8,
          last: runEnd === sl.nalEnd,
          beforeTail: next?.chain === true && next.at + PATTERN_BLOCK_BYTES === sl.nalEnd,
          share: (runStart - sl.dataStart) / dataBytes,
          firstMb: header.firstMbInSlice,
        });
      }
    }
  }
  return out;
}

/** A fresh slice: the run's slice header with first_mb_in_slice rewritten, then the run's bits from `fromBit`. */
export function candidateSlice(r: Run, o: { firstMb: number; fromBit: number; toBit?: number }): Uint8Array {
  const w = new BitWriter();
  for (let i = 7; i >= 0; i--) w.bit((r.header.nal >> i) & 1);
  w.ue(o.firstMb);
  w.copy(r.header.rest, 0, r.header.restBits);
  // cabac_alignment_one_bit up to the byte boundary, 7.3.4.
  if (r.header.cabac) while (w.length % 8 !== 0) w.bit(1);
  w.copy(r.rbsp, o.fromBit, o.toBit ?? r.toBit);
  // The slice's last run carries its own rbsp_slice_trailing_bits; a run cut by an encrypted block gets some.
  if (!r.last || o.toBit !== undefined) w.trailing();
  return annexBNal(w.bytes());
}

/** The view with `extra` slices appended after the last NAL unit of each picture (by index). */
export function withExtraSlices(
  view: Uint8Array,
  extra: Map<number, Array<{ address: number; slice: Uint8Array }>>,
): Uint8Array {
  const layout = h264EsLayout(view);
  const parts: Uint8Array[] = [];
  for (const [i, p] of layout.pictures.entries()) {
    parts.push(view.subarray(p.offset, p.offset + p.length));
    // Ascending first_mb_in_slice, each once: a parser takes a slice at or before the last one's address as
    // the start of a new picture.
    let last = 0;
    for (const s of (extra.get(i) ?? []).sort((a, b) => a.address - b.address)) {
      if (s.address <= last) continue;
      parts.push(s.slice);
      last = s.address;
    }
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/**
 * Where a recovered run's slice starts: exact for a slice's last run (its macroblocks end at the picture's last);
 * before an encrypted last block, counted back from the picture's end less a guess; else the run's byte share.
 */
export function placeRun(
  r: Run,
  b: { offset: number; mbs: number },
  picSize: number,
): { address: number; how: "exact" | "beforeTail" | "estimate" } {
  if (r.last) return { address: picSize - b.mbs, how: "exact" };
  if (r.beforeTail) {
    // The encrypted last block holds the rest of the macroblock the parse stopped in and maybe more: the
    // attempt guesses as many as 16 bytes hold at the run's own bytes per macroblock, at least that one.
    const bytesPerMb = (r.toBit - r.fromBit - b.offset) / 8 / b.mbs;
    return {
      address: picSize - b.mbs - Math.max(1, Math.round(PATTERN_BLOCK_BYTES / bytesPerMb)),
      how: "beforeTail",
    };
  }
  return { address: Math.round(r.firstMb + r.share * (picSize - r.firstMb)), how: "estimate" };
}
