/** @module `pvrlink inspect FILE [--json]`: what a recording holds, as a table or as one stable JSON object. */

import { type Command, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import type { Ratio, RecordingIndex, StreamRecord, VideoStreamInfo } from "../codec/recording-index.ts";
import { indexFile, openInputSync } from "../firmware/files/recording-file.ts";

const HELP = `Usage: pvrlink inspect FILE [--json]

Indexes an MPEG recording (ES, PS, TS, M2TS or MP4, detected by content) and prints what it holds:
container, format, picture size, the video's properties (profile and level, chroma format, frame rate,
aspect ratio, bit rate, field order, duration, first GOP time code), the other streams of a PS/TS, picture
and GOP counts, the bytes that would travel protected, and any damage found (with offsets). --json adds per
picture its packet's file position and PTS/DTS, and each GOP's time code. Damaged recordings are still
indexed; their errors are listed.

Options:
  --json      print exactly one JSON object instead of the table (format: pvrlink help split-format, "inspect --json")
  -h, --help  show this help

Exit codes: 0 indexed (even with stream errors), 1 unreadable or not media (ERR_NOT_MEDIA), 2 bad usage.`;

/** The first errors the table shows; --json lists them all. */
const TABLE_ERRORS = 10;

/**
 * The version of the `inspect --json` contract: 2 appended `video`, `streams`, picture pos/pts/dts, GOP
 * timeCode; 3 appended `timeScale` (MP4 pictures carry their track's times).
 */
const JSON_VERSION = 3;
/** Seconds to microseconds, as ffprobe prints durations. */
const MICROSECONDS = 1e6;

const ratioText = (r: Ratio | null, sep: string): string | null => (r ? `${r[0]}${sep}${r[1]}` : null);

function videoJson(v: VideoStreamInfo | undefined): object | null {
  if (!v) return null;
  return {
    profile: v.profile,
    level: v.level,
    chromaFormat: v.chromaFormat,
    frameRate: ratioText(v.frameRate, "/"),
    sampleAspectRatio: ratioText(v.sampleAspectRatio, ":"),
    displayAspectRatio: ratioText(v.displayAspectRatio, ":"),
    bitRate: v.bitRate,
    progressive: v.progressive,
    fieldOrder: v.fieldOrder,
    timeCode: v.timeCode,
    duration: v.duration === null ? null : Math.round(v.duration * MICROSECONDS) / MICROSECONDS,
  };
}

/**
 * The `inspect --json` object. Keys are written in this order: scripts read it, so keys are only ever
 * appended (with a `version` bump), never renamed, reordered or dropped (docs/split-format.md).
 */
export function inspectJson(index: RecordingIndex): string {
  const c = index.counts;
  const d = index.details;
  return JSON.stringify({
    container: index.container,
    format: index.format,
    width: index.width,
    height: index.height,
    counts: { seq: c.seq, gop: c.gop, pic: c.pic, I: c.I, P: c.P, B: c.B, D: c.D },
    gops: index.gops.map((g) => ({
      offset: g.offset,
      closed: g.closed,
      brokenLink: g.brokenLink,
      timeCode: g.timeCode ?? null,
    })),
    pictures: index.pictures.map((p, i) => ({
      serial: p.serial,
      type: p.type,
      structure: p.structure,
      offset: p.offset,
      length: p.length,
      pos: d ? (d.pos[i] ?? -1) : -1,
      pts: d?.pts[i] ?? null,
      dts: d?.dts[i] ?? null,
    })),
    errors: index.errors.map((e) => ({ offset: e.offset, code: e.code, message: e.message })),
    version: JSON_VERSION,
    video: videoJson(d?.video),
    streams: (d?.streams ?? []).map((s) => ({
      id: s.id,
      kind: s.kind,
      codec: s.codec,
      streamType: s.streamType,
    })),
    timeScale: d?.timeScale ?? null,
  });
}

/** "Main@8 4:2:0, 25/1 fps, DAR 11:9 (SAR 1:1), progressive, 1.440 s, 104857200 bit/s declared". */
function videoRow(v: VideoStreamInfo): string {
  const parts: string[] = [];
  if (v.profile !== null || v.level !== null) parts.push(`${v.profile ?? "?"}@${v.level ?? "?"}`);
  if (v.chromaFormat) parts.push(v.chromaFormat);
  if (v.frameRate) parts.push(`${ratioText(v.frameRate, "/")} fps`);
  if (v.displayAspectRatio)
    parts.push(`DAR ${ratioText(v.displayAspectRatio, ":")} (SAR ${ratioText(v.sampleAspectRatio, ":")})`);
  if (v.fieldOrder) parts.push(v.fieldOrder === "progressive" ? "progressive" : `interlaced ${v.fieldOrder}`);
  if (v.duration !== null) parts.push(`${v.duration.toFixed(3)} s`);
  if (v.bitRate !== null) parts.push(`${v.bitRate} bit/s declared`);
  return parts.length > 0 ? parts.join(", ") : "unknown";
}

function streamsRow(streams: StreamRecord[]): string {
  return streams.map((s) => `0x${s.id.toString(16)} ${s.kind}${s.codec ? ` ${s.codec}` : ""}`).join(", ");
}

/** The human summary. */
export function inspectTable(path: string, fileLength: number, index: RecordingIndex): string {
  const c = index.counts;
  let protectedBytes = 0;
  for (const r of index.protectedRanges) protectedBytes += r.length;
  const share = fileLength > 0 ? ((100 * protectedBytes) / fileLength).toFixed(1) : "0.0";
  // Plain loops: run once per process, before any JIT tier, a filter's callback per picture cost ~1 ms here.
  let closed = 0;
  let broken = 0;
  for (const g of index.gops) {
    if (g.closed) closed++;
    if (g.brokenLink) broken++;
  }
  let fields = 0;
  for (const p of index.pictures) if (p.structure !== "frame") fields++;
  const rows: [string, string][] = [
    ["File", path],
    ["Size", `${fileLength} bytes`],
    ["Container", index.container],
    ["Format", `${index.format} ${index.width}x${index.height}`],
    ...(index.details ? ([["Video", videoRow(index.details.video)]] as [string, string][]) : []),
    ...(index.details?.video.timeCode
      ? ([["Time code", index.details.video.timeCode]] as [string, string][])
      : []),
    ...(index.details?.streams.length
      ? ([["Streams", streamsRow(index.details.streams)]] as [string, string][])
      : []),
    ["Sequences", String(c.seq)],
    ["GOPs", `${c.gop} (closed ${closed}, broken link ${broken})`],
    ["Pictures", `${c.pic} (I ${c.I}, P ${c.P}, B ${c.B}, D ${c.D}; field pictures ${fields})`],
    ["Protected", `${protectedBytes} bytes in ${index.protectedRanges.length} ranges (${share}%)`],
    ["Errors", String(index.errors.length)],
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(10)}  ${v}`);
  for (const e of index.errors.slice(0, TABLE_ERRORS)) lines.push(`  @${e.offset} ${e.code}: ${e.message}`);
  if (index.errors.length > TABLE_ERRORS)
    lines.push(`  ... ${index.errors.length - TABLE_ERRORS} more (see --json)`);
  return lines.join("\n");
}

export const command: Command = {
  summary: "index a recording and print its pictures, GOPs and errors",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    if (positionals.length !== 1)
      throw new UsageError(`Cannot inspect: expected one FILE, got ${positionals.length} arguments`);
    const path = positionals[0]!;
    using handle = openInputSync(path);
    // A one-shot command: nothing else runs on the event loop, so blocking reads cost least (recording-file.ts).
    // Per-picture pos/PTS/DTS only for --json, which prints them: the table stays as fast as before.
    const indexer = new RecordingIndexer({ details: true, pictureDetails: values.json === true });
    const { index, length } = await indexFile(handle, { hash: false, blocking: true, indexer });
    // Like ffprobe, a file with nothing of MPEG video in it is an error, not an empty recording: no container
    // was recognised (the codec fell back to ES) and no sequence header or picture was found anywhere.
    if (index.container === "es" && index.counts.seq === 0 && index.counts.pic === 0)
      throw new InputError(
        `Cannot inspect ${path}: not an MPEG recording (no container, no video sequence header)`,
        "ERR_NOT_MEDIA",
      );
    // Bun.write rather than process.stdout: the first touch of process.stdout builds Node's stream machinery,
    // 8 ms of a 50 ms inspect (docs/benchmarks.md, Parse).
    await Bun.write(Bun.stdout, `${values.json ? inspectJson(index) : inspectTable(path, length, index)}\n`);
    return 0;
  },
};
