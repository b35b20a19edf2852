/** @module A standard CENC 'cbcs' protected MP4 from an H.264 MP4: which bytes to encrypt, and the moov that signals it (encv/sinf/tenc, senc/saiz/saio). */

import { codecError } from "../codec-error.ts";
import { cbcsSliceBlocks } from "./cbcs-slice-blocks.ts";
import { type H264Pps, parseH264Pps } from "./h264-pps.ts";
import { type H264ParameterSets, parseH264SliceHeader } from "./h264-slice-header.ts";
import { type H264Sps, parseH264Sps } from "./h264-sps.ts";
import { type BoxSpan, boxChildren, boxPath, fourcc, u16, u32 } from "./mp4-box-walk.ts";
import { filterMoov } from "./mp4-moov-filter.ts";
import { readSampleTable } from "./mp4-sample-table.ts";

// Wire values, ISO/IEC 23001-7:2016 (CENC) and ISO/IEC 14496-12 (ISOBMFF):
/** Protected visual sample entry, 14496-12 8.12 / 23001-7 4.2. */
const ENCV = "encv";
const AVC1 = "avc1";
/** scheme_type and scheme_version of 'cbcs', 23001-7 10.4.1: version 0x00010000 (1.0). */
const CBCS = "cbcs";
const CBCS_SCHEME_VERSION = 0x00010000;
/** tenc version 1 carries the pattern (default_crypt_byte_block, default_skip_byte_block), 23001-7 8.2.2. */
const TENC_VERSION = 1;
/** senc flags: UseSubSampleEncryption (0x2), 23001-7 7.2.2. */
const SENC_SUBSAMPLES = 0x000002;
/** VisualSampleEntry's fixed fields before its child boxes (8 + 70 bytes), 14496-12 8.5.2.2 and 12.1.3.2. */
const VISUAL_SAMPLE_ENTRY_BYTES = 78;
/** stsd: version/flags and entry_count before the entries, 14496-12 8.5.2.2. */
const STSD_FIELDS = 8;
/** hdlr: handler_type after version/flags and pre_defined, 14496-12 8.4.3. */
const HANDLER_TYPE_OFFSET = 8;
/** BytesOfClearData is a u16 (23001-7 7.2.2): a longer clear run takes several subsamples. */
const MAX_CLEAR_BYTES = 0xffff;
/** saiz's sample_info_size is a u8 (14496-12 8.7.8): 2 + 6 × subsamples must fit it. */
const MAX_AUX_INFO_BYTES = 0xff;
/** Subsample entry: BytesOfClearData u16 + BytesOfProtectedData u32. */
const SUBSAMPLE_ENTRY_BYTES = 6;
const BLOCK = 16;
const KEY_ID_BYTES = 16;
const CONSTANT_IV_BYTES = 16;
/** Coded slice NAL unit types, ITU-T H.264 Table 7-1. */
const SLICE_NALS = new Set([1, 5]);

export interface Mp4CbcsOptions {
  /** default_KID of tenc: the key's identifier (16 bytes; the key itself is not in the file). */
  keyId: Uint8Array;
  /** default_constant_IV (16 bytes), stated in the clear in tenc as cbcs allows (23001-7 10.4.1). */
  constantIv: Uint8Array;
  crypt?: number;
  skip?: number;
}

/** What to encrypt and what to write: the caller's cipher (crypto/cbcs-cipher.ts) does the encrypting. */
export interface Mp4CbcsPlan {
  /** File ranges of the bytes to encrypt, ascending; whole 16-byte blocks together. */
  ranges: Array<{ offset: number; length: number }>;
  /** The first block of each CBC chain (one per protected subsample, 23001-7 10.4), blocks numbered over `ranges`. */
  chainStarts: number[];
  /** Where the original moov lies; its type becomes 'free' so its bytes stay and readers skip them. */
  moov: { offset: number; length: number };
  /** The protected moov, to append after the last byte of the original (its saio points there). */
  protectedMoov: Uint8Array;
  samples: number;
  /** Slices left clear whole: their slice header could not be read. */
  clearSlices: number;
}

function fail(message: string, offset = 0): never {
  throw codecError("ERR_MP4_CBCS", `Cannot protect MP4 as cbcs: ${message}`, offset);
}

/**
 * Plans the cbcs protection of the video track of an H.264 MP4 held in memory: every coded slice's NAL header
 * and slice header clear, 1:9 blocks of its slice data encrypted (a subsample per slice), every other NAL clear;
 * and the moov that says so, with the sample entry renamed encv and given a sinf (frma avc1, schm cbcs, tenc v1
 * with the pattern, no per-sample IV, the constant IV), and senc/saiz/saio in the track's stbl. The media data
 * does not move: the old moov becomes a free box and the new one goes at the end, so every chunk offset holds.
 */
export function planMp4Cbcs(bytes: Uint8Array, options: Mp4CbcsOptions): Mp4CbcsPlan {
  const crypt = options.crypt ?? 1;
  const skip = options.skip ?? 9;
  if (options.keyId.length !== KEY_ID_BYTES || options.constantIv.length !== CONSTANT_IV_BYTES)
    fail("the key ID and the constant IV must be 16 bytes each");
  if (!(crypt >= 1 && crypt <= 15 && skip >= 0 && skip <= 15))
    fail(`pattern ${crypt}:${skip} does not fit tenc`);
  const top = boxChildren(bytes, 0, bytes.length);
  const moovBox = top.find((b) => b.type === "moov");
  if (!moovBox) fail("the file has no moov");
  if (top.some((b) => b.type === "moof")) fail("fragmented MP4 is not supported");
  const m = bytes.slice(moovBox.start, moovBox.end);
  const filtered = filterMoov(m);
  if (!filtered.ok) fail(filtered.message);
  if (filtered.track.entryType !== AVC1)
    fail(`the video sample entry is ${filtered.track.entryType}, not avc1`);
  const lengthSize = filtered.track.lengthSize;
  const table = readSampleTable(filtered.moov);
  if (table.problem !== undefined || table.dropped > 0)
    fail(`the sample table is damaged (${table.problem ?? "dropped samples"})`);
  const boxes = videoBoxes(m);
  const sets = avcParameterSets(m, boxes.entry);

  const ranges: Array<{ offset: number; length: number }> = [];
  const chainStarts: number[] = [];
  const perSample: number[][] = [];
  let blocks = 0;
  let clearSlices = 0;
  const withTail = { crypt, skip };
  const withoutTail = { crypt, skip, tail: false };
  for (const s of table.samples) {
    const end = s.offset + s.size;
    if (end > bytes.length) fail(`a sample at ${s.offset} runs past the file's end`, s.offset);
    // Each slice's last block is a subsample of its own (cbcsSliceBlocks); a sample with too many slices for
    // saiz's u8 size then keeps the plain pattern, one subsample a slice (the senc says which, so both decrypt).
    let planned = sampleSubsamples(bytes, { from: s.offset, end, lengthSize, sets, scheme: withTail });
    if (2 + SUBSAMPLE_ENTRY_BYTES * (planned.subsamples.length / 2) > MAX_AUX_INFO_BYTES)
      planned = sampleSubsamples(bytes, { from: s.offset, end, lengthSize, sets, scheme: withoutTail });
    const { subsamples } = planned;
    if (2 + SUBSAMPLE_ENTRY_BYTES * (subsamples.length / 2) > MAX_AUX_INFO_BYTES)
      fail(
        `a sample at ${s.offset} needs ${subsamples.length / 2} subsamples, more than saiz can size`,
        s.offset,
      );
    clearSlices += planned.clearSlices;
    for (const b of planned.blocks) {
      if (b.chain) chainStarts.push(blocks);
      const last = ranges[ranges.length - 1];
      if (last && last.offset + last.length === b.at) last.length += BLOCK;
      else ranges.push({ offset: b.at, length: BLOCK });
      blocks++;
    }
    perSample.push(subsamples);
  }
  const sinf = sinfBox({ crypt, skip, keyId: options.keyId, constantIv: options.constantIv });
  const protectedMoov = protectedMoovBytes(m, boxes, { sinf, perSample, appendAt: bytes.length });
  return {
    ranges,
    chainStarts,
    moov: { offset: moovBox.start, length: moovBox.end - moovBox.start },
    protectedMoov,
    samples: table.samples.length,
    clearSlices,
  };
}

/** The protected file from the original with `plan.ranges` already encrypted in `encrypted`: old moov freed, new one appended. */
export function assembleMp4Cbcs(encrypted: Uint8Array, plan: Mp4CbcsPlan): Uint8Array {
  const out = new Uint8Array(encrypted.length + plan.protectedMoov.length);
  out.set(encrypted, 0);
  out.set(new TextEncoder().encode("free"), plan.moov.offset + 4);
  out.set(plan.protectedMoov, encrypted.length);
  return out;
}

/** One sample's (clear, protected) subsample pairs and encrypted blocks, each slice's as cbcsSliceBlocks() lays them. */
function sampleSubsamples(
  bytes: Uint8Array,
  o: {
    from: number;
    end: number;
    lengthSize: number;
    sets: H264ParameterSets;
    scheme: { crypt: number; skip: number; tail?: boolean };
  },
): { subsamples: number[]; blocks: Array<{ at: number; chain: boolean }>; clearSlices: number } {
  const subsamples: number[] = [];
  const blocks: Array<{ at: number; chain: boolean }> = [];
  const visit = (at: number, chain: boolean) => blocks.push({ at, chain });
  let clearSlices = 0;
  let clear = 0;
  let p = o.from;
  while (p < o.end) {
    if (p + o.lengthSize > o.end) fail(`a NAL length at ${p} is cut off`, p);
    let nalLength = 0;
    for (let i = 0; i < o.lengthSize; i++) nalLength = nalLength * 256 + bytes[p + i]!;
    const nal = p + o.lengthSize;
    const nalEnd = nal + nalLength;
    if (nalEnd > o.end) fail(`a NAL unit at ${p} runs past its sample`, p);
    let dataStart = -1;
    if (nalLength > 0 && SLICE_NALS.has(bytes[nal]! & 0x1f)) {
      try {
        dataStart = parseH264SliceHeader(bytes, nal, nalEnd, o.sets).dataOffset;
      } catch {
        clearSlices++;
      }
    }
    if (dataStart < 0 || dataStart >= nalEnd) {
      clear += nalEnd - p;
    } else {
      clear += dataStart - p;
      const span = cbcsSliceBlocks(dataStart, nalEnd, o.scheme, visit);
      pushSubsample(subsamples, clear, span);
      // The tail block, when cbcsSliceBlocks() encrypted one: a subsample with no clear bytes.
      if (span < nalEnd - dataStart) pushSubsample(subsamples, 0, nalEnd - dataStart - span);
      clear = 0;
    }
    p = nalEnd;
  }
  if (clear > 0 || subsamples.length === 0) pushSubsample(subsamples, clear, 0);
  return { subsamples, blocks, clearSlices };
}

/** Appends (clear, protected) pairs, splitting a clear run past the u16 limit. */
function pushSubsample(out: number[], clear: number, protectedBytes: number): void {
  while (clear > MAX_CLEAR_BYTES) {
    out.push(MAX_CLEAR_BYTES, 0);
    clear -= MAX_CLEAR_BYTES;
  }
  out.push(clear, protectedBytes);
}

interface VideoBoxes {
  /** moov and its descendants down to the sample entry, outermost first. */
  chain: BoxSpan[];
  stbl: BoxSpan;
  stsd: BoxSpan;
  entry: BoxSpan;
}

function videoBoxes(m: Uint8Array): VideoBoxes {
  const moov = boxChildren(m, 0, m.length)[0]!;
  const trak = boxChildren(m, moov.body, moov.end).find((t) => {
    if (t.type !== "trak") return false;
    const hdlr = boxPath(m, t, ["mdia", "hdlr"]);
    return (
      hdlr !== undefined &&
      hdlr.end - hdlr.body >= 12 &&
      fourcc(m, hdlr.body + HANDLER_TYPE_OFFSET) === "vide"
    );
  });
  if (!trak) fail("no video track");
  const mdia = boxPath(m, trak, ["mdia"])!;
  const minf = boxPath(m, mdia, ["minf"]);
  const stbl = minf && boxPath(m, minf, ["stbl"]);
  const stsd = stbl && boxPath(m, stbl, ["stsd"]);
  if (!minf || !stbl || !stsd) fail("the video track has no minf/stbl/stsd");
  const entry = boxChildren(m, stsd.body + STSD_FIELDS, stsd.end)[0];
  if (!entry) fail("the video track's stsd has no entry");
  const chain = [moov, trak, mdia, minf, stbl, stsd, entry];
  // Sizes are rewritten in place: only 32-bit box headers are handled.
  if (chain.some((b) => b.body - b.start !== 8))
    fail("a box on the path to the sample entry has a 64-bit size");
  return { chain, stbl, stsd, entry };
}

/**
 * The video track's NAL length size and parameter sets, from a moov box (header included): what a reader of its
 * samples needs to find and parse their slice headers. Throws ERR_MP4_CBCS (or the SPS/PPS parsers' codes).
 */
export function mp4AvcTrack(moov: Uint8Array): { lengthSize: number; sets: H264ParameterSets } {
  const filtered = filterMoov(moov);
  if (!filtered.ok) fail(filtered.message);
  if (filtered.track.entryType !== AVC1)
    fail(`the video sample entry is ${filtered.track.entryType}, not avc1`);
  return { lengthSize: filtered.track.lengthSize, sets: avcParameterSets(moov, videoBoxes(moov).entry) };
}

/** The SPS and PPS of the avcC (ISO/IEC 14496-15 5.3.3.1), by id. */
function avcParameterSets(m: Uint8Array, entry: BoxSpan): H264ParameterSets {
  const avcC = boxChildren(m, entry.body + VISUAL_SAMPLE_ENTRY_BYTES, entry.end).find(
    (c) => c.type === "avcC",
  );
  if (!avcC) fail("the avc1 entry has no avcC");
  const spsById = new Map<number, H264Sps>();
  const ppsById = new Map<number, H264Pps>();
  let at = avcC.body + 5;
  const take = (): [number, number] => {
    if (at + 2 > avcC.end) fail("the avcC is cut off", at);
    const len = u16(m, at);
    const from = at + 2;
    at = from + len;
    if (at > avcC.end) fail("the avcC is cut off", from);
    return [from, at];
  };
  const spsCount = m[at++]! & 0x1f;
  for (let i = 0; i < spsCount; i++) {
    const [from, to] = take();
    const sps = parseH264Sps(m, from, to);
    spsById.set(sps.spsId, sps);
  }
  if (at >= avcC.end) fail("the avcC has no PPS count", at);
  const ppsCount = m[at++]!;
  for (let i = 0; i < ppsCount; i++) {
    const [from, to] = take();
    const r = new Uint8Array(m.subarray(from, to));
    // The PPS names its SPS: read it with that SPS's picture size (slice group map type 6 needs it).
    const guess = parseH264Pps(r, 0, r.length, [...spsById.values()][0]?.picSizeInMapUnits);
    ppsById.set(guess.ppsId, guess);
  }
  return { sps: (id: number) => spsById.get(id), pps: (id: number) => ppsById.get(id) };
}

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(new TextEncoder().encode(type), 4);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  const vf = new Uint8Array(4);
  new DataView(vf.buffer).setUint32(0, ((version << 24) | flags) >>> 0);
  return box(type, vf, ...parts);
}

/** sinf: frma (original format), schm (cbcs 1.0), schi/tenc v1, 23001-7 8.2 and 14496-12 8.12. */
function sinfBox(o: { crypt: number; skip: number; keyId: Uint8Array; constantIv: Uint8Array }): Uint8Array {
  const schm = new Uint8Array(8);
  schm.set(new TextEncoder().encode(CBCS), 0);
  new DataView(schm.buffer).setUint32(4, CBCS_SCHEME_VERSION);
  // tenc v1: reserved, crypt:skip nibbles, default_isProtected 1, default_Per_Sample_IV_Size 0, default_KID,
  // default_constant_IV_size, default_constant_IV (23001-7 8.2.2).
  const tenc = new Uint8Array(4 + KEY_ID_BYTES + 1 + CONSTANT_IV_BYTES);
  tenc[0] = 0;
  tenc[1] = (o.crypt << 4) | o.skip;
  tenc[2] = 1;
  tenc[3] = 0;
  tenc.set(o.keyId, 4);
  tenc[4 + KEY_ID_BYTES] = CONSTANT_IV_BYTES;
  tenc.set(o.constantIv, 5 + KEY_ID_BYTES);
  return box(
    "sinf",
    box("frma", new TextEncoder().encode(AVC1)),
    fullBox("schm", 0, 0, schm),
    box("schi", fullBox("tenc", TENC_VERSION, 0, tenc)),
  );
}

/** The moov with the sample entry protected and senc/saiz/saio added to the video stbl; sizes rewritten. */
function protectedMoovBytes(
  m: Uint8Array,
  boxes: VideoBoxes,
  o: { sinf: Uint8Array; perSample: number[][]; appendAt: number },
): Uint8Array {
  const n = o.perSample.length;
  let sencBody = 4;
  for (const s of o.perSample) sencBody += 2 + SUBSAMPLE_ENTRY_BYTES * (s.length / 2);
  const senc = new Uint8Array(sencBody);
  const sv = new DataView(senc.buffer);
  sv.setUint32(0, n);
  const saizBody = new Uint8Array(1 + 4 + n);
  new DataView(saizBody.buffer).setUint32(1, n);
  let at = 4;
  o.perSample.forEach((s, i) => {
    saizBody[5 + i] = 2 + SUBSAMPLE_ENTRY_BYTES * (s.length / 2);
    sv.setUint16(at, s.length / 2);
    at += 2;
    for (let k = 0; k < s.length; k += 2) {
      sv.setUint16(at, s[k]!);
      sv.setUint32(at + 2, s[k + 1]!);
      at += SUBSAMPLE_ENTRY_BYTES;
    }
  });
  const sencBox = fullBox("senc", 0, SENC_SUBSAMPLES, senc);
  const saiz = fullBox("saiz", 0, 0, saizBody);
  // saio: one offset, of the first sample's entry in senc (after its box header, version/flags, sample_count).
  const sencEntries = (saioLength: number) =>
    o.appendAt + boxes.stbl.end + o.sinf.length + saiz.length + saioLength + 16;
  // A version 0 saio (20 bytes) holds a 32-bit offset; past 4 GiB, version 1 (24 bytes) a 64-bit one.
  const wide = sencEntries(20) >= 2 ** 32;
  const target = sencEntries(wide ? 24 : 20);
  const saioBody = new Uint8Array(wide ? 12 : 8);
  const dv = new DataView(saioBody.buffer);
  dv.setUint32(0, 1);
  if (wide) dv.setBigUint64(4, BigInt(target));
  else dv.setUint32(4, target);
  const saio = fullBox("saio", wide ? 1 : 0, 0, saioBody);
  const aux = saiz.length + saio.length + sencBox.length;
  const entryEnd = boxes.entry.end;
  const stblEnd = boxes.stbl.end;
  const out = new Uint8Array(m.length + o.sinf.length + aux);
  out.set(m.subarray(0, entryEnd), 0);
  out.set(o.sinf, entryEnd);
  out.set(m.subarray(entryEnd, stblEnd), entryEnd + o.sinf.length);
  let w = stblEnd + o.sinf.length;
  for (const part of [saiz, saio, sencBox]) {
    out.set(part, w);
    w += part.length;
  }
  out.set(m.subarray(stblEnd), w);
  const v = new DataView(out.buffer);
  for (const b of boxes.chain) {
    const grow = b === boxes.entry || b === boxes.stsd ? o.sinf.length : o.sinf.length + aux;
    v.setUint32(b.start, u32(m, b.start) + grow);
  }
  out.set(new TextEncoder().encode(ENCV), boxes.entry.start + 4);
  return out;
}
