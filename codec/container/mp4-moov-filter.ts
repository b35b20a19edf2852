/** @module Bounded walk of an MP4 moov: finds the video track, checks its sample tables, and rebuilds a minimal moov for mp4box. */

import { CodecError } from "../codec-error.ts";
import type { VideoFormat } from "../recording-index.ts";
import { type H264Sps, parseH264Sps } from "./h264-sps.ts";
import { readTrackTime, type TrackTime } from "./mp4-track-time.ts";

/**
 * Most samples a track may declare. A constant-size stsz (ISO/IEC 14496-12 8.7.3.2) states a sample count
 * that no table bytes back, and mp4box builds one array slot and one ~230-byte sample object per sample: an
 * input claiming 4 billion ran it out of memory for minutes (test/cli fuzz seed 579). At this cap mp4box
 * takes ~0.6 s and ~0.5 GB; 2^21 samples is 9.7 hours at 60 frames/s, 19 hours at 30.
 */
export const MAX_TRACK_SAMPLES = 2 ** 21;

/** Box layout, ISO/IEC 14496-12 4.2: 32-bit size, fourcc, and for size 1 a 64-bit largesize. */
const BOX_HEADER_LENGTH = 8;
const LARGE_BOX_HEADER_LENGTH = 16;
const BOX_SIZE_LARGE = 1;
/** FullBox version (8 bits) + flags (24 bits), ISO/IEC 14496-12 4.2. */
const FULL_BOX_HEADER = 4;
/** Handler type of a video track, hdlr (ISO/IEC 14496-12 8.4.3): after version/flags and pre_defined. */
const HANDLER_TYPE_OFFSET = 8;
const VIDEO_HANDLER = "vide";
/** SampleEntry (8 bytes) + VisualSampleEntry fields (70 bytes), ISO/IEC 14496-12 8.5.2.2 and 12.1.3.2. */
const VISUAL_SAMPLE_ENTRY_LENGTH = 78;
const VISUAL_WIDTH_OFFSET = 24;
const VISUAL_HEIGHT_OFFSET = 26;
/** AVCDecoderConfigurationRecord, ISO/IEC 14496-15 5.3.3.1: lengthSizeMinusOne in byte 4, numOfSPS in byte 5. */
const AVCC_LENGTH_SIZE_BYTE = 4;
const AVCC_SPS_COUNT_BYTE = 5;
/** The first SPS: a 16-bit length, then the NAL unit (ISO/IEC 14496-15 5.3.3.1.2). */
const AVCC_FIRST_SPS_LENGTH = 6;
const AVCC_FIRST_SPS = 8;
/** Sample entry fourccs, ISO/IEC 14496-15. */
const AVC_ENTRIES = new Set(["avc1", "avc2", "avc3", "avc4"]);
const HEVC_ENTRIES = new Set(["hvc1", "hev1"]);

/** Counted tables (ISO/IEC 14496-12 8.6.1.2, 8.6.1.3, 8.7.4, 8.7.5, 8.6.2): bytes per entry after version/flags + entry_count. */
const COUNTED_TABLES: Readonly<Record<string, number>> = {
  stts: 8,
  ctts: 8,
  stsc: 12,
  stco: 4,
  co64: 8,
  stss: 4,
};
/** stz2 field_size values, ISO/IEC 14496-12 8.7.3.3. */
const STZ2_FIELD_SIZES = new Set([4, 8, 16]);

export interface VideoTrackInfo {
  entryType: string;
  format: VideoFormat;
  width: number;
  height: number;
  /** NAL length field size of AVC samples (1, 2 or 4); 0 when the samples are not AVC. */
  lengthSize: number;
  /** Sequence parameter sets in the avcC. */
  parameterSets: number;
  /** The avcC's first SPS, parsed (inspect's stream properties), or null. */
  sps: H264Sps | null;
  /** The track's timescale and edit-list shift, for the samples' PTS/DTS. */
  time: TrackTime;
}

export type MoovFilterResult =
  | { ok: true; track: VideoTrackInfo; moov: Uint8Array }
  | { ok: false; code: "ERR_MP4_NO_VIDEO" | "ERR_MP4_MOOV"; message: string };

interface Box {
  type: string;
  start: number;
  body: number;
  end: number;
}

/**
 * mp4box parses whatever boxes it is given, and some of its parsers loop on counts no bytes back. So it is
 * handed only a moov rebuilt from parts checked here: one trak with a fixed tkhd/mdhd/empty stsd written
 * by us, and the video track's sample tables copied after checking that every entry count fits its box.
 * Every box parsed here is at least 8 bytes inside its parent, so the walk is linear in the moov's size.
 */
export function filterMoov(moov: Uint8Array): MoovFilterResult {
  try {
    const [top] = children(moov, 0, moov.length);
    if (top?.type !== "moov") throw new SyntaxError("the box is not a moov");
    const trak = children(moov, top.body, top.end).find(
      (t) => t.type === "trak" && handlerOf(moov, t) === VIDEO_HANDLER,
    );
    if (!trak)
      return { ok: false, code: "ERR_MP4_NO_VIDEO", message: "Cannot index MP4: moov has no video track" };
    const stbl = path(moov, trak, ["mdia", "minf", "stbl"]);
    if (!stbl) throw new SyntaxError("the video track has no mdia/minf/stbl");
    const tables = new Map<string, Box>();
    for (const b of children(moov, stbl.body, stbl.end)) if (!tables.has(b.type)) tables.set(b.type, b);
    const track = readSampleEntry(moov, tables.get("stsd"));
    track.time = readTrackTime(moov, {
      mvhd: children(moov, top.body, top.end).find((b) => b.type === "mvhd"),
      mdhd: path(moov, trak, ["mdia", "mdhd"]),
      elst: path(moov, trak, ["edts", "elst"]),
    });
    const kept: Uint8Array[] = [];
    for (const [type, entryBytes] of Object.entries(COUNTED_TABLES)) {
      const b = tables.get(type);
      if (b) kept.push(checkCounted(moov, b, entryBytes));
    }
    const sizes = tables.get("stsz") ?? tables.get("stz2");
    if (!sizes) throw new SyntaxError("the video track has no stsz or stz2");
    kept.push(checkSampleSizes(moov, sizes));
    for (const needed of ["stts", "stsc"]) {
      if (!tables.has(needed)) throw new SyntaxError(`the video track has no ${needed}`);
    }
    if (!tables.has("stco") && !tables.has("co64"))
      throw new SyntaxError("the video track has no stco or co64");
    return { ok: true, track, moov: minimalMoov(kept) };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return { ok: false, code: "ERR_MP4_MOOV", message: `Cannot read moov: ${e.message}` };
  }
}

/** The boxes in b[from, to); throws SyntaxError on a size that is below its header or leaves the parent. */
function children(b: Uint8Array, from: number, to: number): Box[] {
  const out: Box[] = [];
  let at = from;
  while (to - at >= BOX_HEADER_LENGTH) {
    const type = fourcc(b, at + 4);
    let size = u32(b, at);
    let header = BOX_HEADER_LENGTH;
    if (size === BOX_SIZE_LARGE) {
      if (to - at < LARGE_BOX_HEADER_LENGTH)
        throw new SyntaxError(`${type} at ${at} is cut inside its largesize`);
      size = u32(b, at + 8) * 2 ** 32 + u32(b, at + 12);
      header = LARGE_BOX_HEADER_LENGTH;
    }
    if (size < header) throw new SyntaxError(`${type} at ${at} declares size ${size}, below its header`);
    if (size > to - at)
      throw new SyntaxError(`${type} at ${at} declares size ${size}, past its parent's end`);
    out.push({ type, start: at, body: at + header, end: at + size });
    at += size;
  }
  return out;
}

function path(b: Uint8Array, from: Box, types: string[]): Box | undefined {
  let box: Box | undefined = from;
  for (const type of types) {
    if (!box) return undefined;
    const parent: Box = box;
    box = children(b, parent.body, parent.end).find((c) => c.type === type);
  }
  return box;
}

function handlerOf(b: Uint8Array, trak: Box): string | undefined {
  const hdlr = path(b, trak, ["mdia", "hdlr"]);
  if (!hdlr || hdlr.end - hdlr.body < HANDLER_TYPE_OFFSET + 4) return undefined;
  return fourcc(b, hdlr.body + HANDLER_TYPE_OFFSET);
}

/** Entry type, size and AVC length size from the first sample description, read here so mp4box need not. */
function readSampleEntry(b: Uint8Array, stsd: Box | undefined): VideoTrackInfo {
  const info: VideoTrackInfo = {
    entryType: "",
    format: "unknown",
    width: 0,
    height: 0,
    lengthSize: 0,
    parameterSets: 0,
    sps: null,
    time: { timeScale: null, shift: 0 },
  };
  if (!stsd || stsd.end - stsd.body < FULL_BOX_HEADER + 4) return info;
  const [entry] = children(b, stsd.body + FULL_BOX_HEADER + 4, stsd.end);
  if (!entry) return info;
  info.entryType = entry.type;
  if (entry.end - entry.body < VISUAL_SAMPLE_ENTRY_LENGTH) return info;
  info.width = u16(b, entry.body + VISUAL_WIDTH_OFFSET);
  info.height = u16(b, entry.body + VISUAL_HEIGHT_OFFSET);
  if (HEVC_ENTRIES.has(entry.type)) info.format = "hevc";
  if (!AVC_ENTRIES.has(entry.type)) return info;
  info.format = "h264";
  const avcC = children(b, entry.body + VISUAL_SAMPLE_ENTRY_LENGTH, entry.end).find((c) => c.type === "avcC");
  if (avcC && avcC.end - avcC.body > AVCC_SPS_COUNT_BYTE) {
    info.lengthSize = (b[avcC.body + AVCC_LENGTH_SIZE_BYTE]! & 0x03) + 1;
    info.parameterSets = b[avcC.body + AVCC_SPS_COUNT_BYTE]! & 0x1f;
    info.sps = info.parameterSets > 0 ? firstSps(b, avcC) : null;
  } else {
    info.lengthSize = 4;
  }
  return info;
}

/** The avcC's first SPS, or null when it is cut off or does not parse (display information only). */
function firstSps(b: Uint8Array, avcC: Box): H264Sps | null {
  const at = avcC.body + AVCC_FIRST_SPS;
  if (at > avcC.end) return null;
  const end = at + u16(b, avcC.body + AVCC_FIRST_SPS_LENGTH);
  if (end > avcC.end) return null;
  try {
    return parseH264Sps(b, at, end);
  } catch (e) {
    if (e instanceof CodecError) return null;
    throw e;
  }
}

function checkCounted(b: Uint8Array, box: Box, entryBytes: number): Uint8Array {
  const length = box.end - box.body;
  if (length < FULL_BOX_HEADER + 4)
    throw new SyntaxError(`${box.type} is ${length} bytes, too short for its entry count`);
  const count = u32(b, box.body + FULL_BOX_HEADER);
  if (count > (length - FULL_BOX_HEADER - 4) / entryBytes) {
    throw new SyntaxError(`${box.type} declares ${count} entries, more than its ${length} bytes hold`);
  }
  return b.subarray(box.start, box.end);
}

function checkSampleSizes(b: Uint8Array, box: Box): Uint8Array {
  const length = box.end - box.body;
  const fixed = FULL_BOX_HEADER + 8;
  if (length < fixed) throw new SyntaxError(`${box.type} is ${length} bytes, too short for its sample count`);
  const count = u32(b, box.body + FULL_BOX_HEADER + 4);
  if (count > MAX_TRACK_SAMPLES)
    throw new SyntaxError(`${box.type} declares ${count} samples, above ${MAX_TRACK_SAMPLES}`);
  let bits = 0;
  if (box.type === "stsz") {
    bits = u32(b, box.body + FULL_BOX_HEADER) === 0 ? 32 : 0;
  } else {
    bits = b[box.body + FULL_BOX_HEADER + 3]!;
    if (!STZ2_FIELD_SIZES.has(bits)) throw new SyntaxError(`stz2 field_size ${bits} is not 4, 8 or 16`);
  }
  if (Math.ceil((count * bits) / 8) > length - fixed) {
    throw new SyntaxError(`${box.type} declares ${count} samples, more than its ${length} bytes hold`);
  }
  return b.subarray(box.start, box.end);
}

/** moov > trak > (tkhd, mdia > (mdhd, minf > stbl > (empty stsd, checked tables))). */
function minimalMoov(tables: Uint8Array[]): Uint8Array {
  // tkhd v0 (ISO/IEC 14496-12 8.3.2): 84 bytes of body; flags 1 = track_enabled; track_ID 1 at byte 12.
  const tkhd = new Uint8Array(84);
  tkhd[3] = 1;
  tkhd[15] = 1;
  // mdhd v0 (8.4.2): 24 bytes of body, timescale 1 at byte 12. Only the order of composition times is used.
  const mdhd = new Uint8Array(24);
  mdhd[15] = 1;
  // stsd (8.5.2) with entry_count 0: the sample entry was read above, mp4box need not parse it.
  const stsd = new Uint8Array(8);
  const stbl = box("stbl", box("stsd", stsd), ...tables);
  return box("moov", box("trak", box("tkhd", tkhd), box("mdia", box("mdhd", mdhd), box("minf", stbl))));
}

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = BOX_HEADER_LENGTH + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let at = BOX_HEADER_LENGTH;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u32(b: Uint8Array, at: number): number {
  return b[at]! * 2 ** 24 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}
