/**
 * @module ffprobe's view of a recording, reduced to what inspect reports (tests and testdata/make-ffprobe-streams.sh),
 * and the comparison of `inspect --json` with it.
 *
 * Packets come from -show_packets (decode order, one per frame: a field pair is one packet), whose pts/dts are
 * the container's own; -show_frames (display order) gives only the GOP time codes, tagged on the frame they
 * start, found by pkt_pos.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const TESTDATA = join(import.meta.dir, "../../testdata");

/** The stream fields compared; the others ffprobe prints are dropped. */
const STREAM_FIELDS = [
  "index",
  "id",
  "codec_type",
  "codec_name",
  "profile",
  "level",
  "width",
  "height",
  "pix_fmt",
  "field_order",
  "r_frame_rate",
  "sample_aspect_ratio",
  "display_aspect_ratio",
  "duration",
  "bit_rate",
  "time_base",
] as const;

export type FfprobeStream = Partial<Record<(typeof STREAM_FIELDS)[number], string | number>>;

export interface FfprobeSummary {
  file: string;
  streams: FfprobeStream[];
  /** The first video stream's packets in decode order; null where ffprobe prints N/A. */
  packets: { pos: number | null; pts: number | null; dts: number | null }[];
  /**
   * The GOP time codes in ffprobe's frame order. The decoder tags the frame it outputs when it reads a GOP
   * header (the reordering delay puts it on an earlier frame than the GOP's I-picture), so these are the GOPs'
   * time codes in order, and `pos` is only where ffprobe printed them.
   */
  timecodes: { pos: number; timecode: string }[];
}

/** Every media fixture under testdata/, relative to it, sorted. */
export function mediaFixtures(): string[] {
  const out: string[] = [];
  for (const dir of ["es", "containers"])
    for (const name of readdirSync(join(TESTDATA, dir)).sort())
      if (/\.(m1v|m2v|mpg|vob|ts|m2ts|mp4)$/.test(name)) out.push(`${dir}/${name}`);
  return out;
}

const num = (v: unknown): number | null => (v === undefined || v === "N/A" ? null : Number(v));

/** Runs ffprobe on testdata/`file` and reduces its output. */
export async function ffprobeSummary(file: string, ffprobe = "ffprobe"): Promise<FfprobeSummary> {
  const args = ["-v", "error", "-show_streams", "-show_packets", "-show_frames", "-of", "json"];
  const proc = Bun.spawn([ffprobe, ...args, join(TESTDATA, file)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`ffprobe failed on ${file}: ${err}`);
  // With both -show_packets and -show_frames, ffprobe interleaves them in one array, each with its "type".
  const json = JSON.parse(out) as {
    streams: Record<string, unknown>[];
    packets_and_frames: (Record<string, unknown> & { type: string; tags?: { timecode?: string } })[];
  };
  const streams = json.streams.map((s) => {
    const kept: FfprobeStream = {};
    for (const f of STREAM_FIELDS) if (s[f] !== undefined) kept[f] = s[f] as string | number;
    return kept;
  });
  const video = json.streams.find((s) => s.codec_type === "video")?.index;
  const packets = json.packets_and_frames
    .filter((p) => p.type === "packet" && p.stream_index === video)
    .map((p) => ({ pos: num(p.pos), pts: num(p.pts), dts: num(p.dts) }));
  const timecodes = json.packets_and_frames
    .filter((f) => f.type === "frame" && f.stream_index === video && f.tags?.timecode !== undefined)
    .map((f) => ({ pos: Number(f.pkt_pos), timecode: f.tags!.timecode! }));
  return { file, streams, packets, timecodes };
}

/** The parts of `inspect --json` compared. */
export interface InspectJson {
  container: string;
  format: string;
  width: number;
  height: number;
  gops: { timeCode: string | null }[];
  pictures: { structure: string; pos: number; pts: number | null; dts: number | null }[];
  video: Record<string, string | number | boolean | null>;
  streams: { id: number; kind: string }[];
  /** Since version 3; an older JSON has none. */
  timeScale?: number | null;
}

const PIX_FMTS: Record<string, string> = {
  yuv420p: "4:2:0",
  yuv422p: "4:2:2",
  yuv444p: "4:4:4",
  gray: "4:0:0",
};
/** ffprobe prints level -99 where the codec has none (MPEG-1). */
const FFPROBE_NO_LEVEL = -99;
/** ffprobe prints durations to the microsecond. */
const DURATION_TOLERANCE = 1e-6;

/** Mismatches between inspect and ffprobe, as readable lines; empty when they agree. */
export function compareInspectWithFfprobe(got: InspectJson, want: FfprobeSummary): string[] {
  const problems: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown) => {
    if (ours !== theirs)
      problems.push(`${what}: inspect ${JSON.stringify(ours)}, ffprobe ${JSON.stringify(theirs)}`);
  };
  const v = want.streams.find((s) => s.codec_type === "video");
  if (!v) return ["ffprobe found no video stream"];
  check("width", got.width, v.width);
  check("height", got.height, v.height);
  check("profile", got.video.profile, v.profile ?? null);
  check("level", got.video.level, v.level === FFPROBE_NO_LEVEL ? null : (v.level ?? null));
  check("chroma format", got.video.chromaFormat, PIX_FMTS[String(v.pix_fmt)] ?? null);
  check("field order", got.video.fieldOrder, v.field_order ?? null);
  check("frame rate", got.video.frameRate, v.r_frame_rate);
  check("sample aspect ratio", got.video.sampleAspectRatio, v.sample_aspect_ratio);
  check("display aspect ratio", got.video.displayAspectRatio, v.display_aspect_ratio);
  // ffprobe's ES duration is a guess from the file size; for PS/TS/MP4 it is the stream's own.
  if (got.container !== "es" && v.duration !== undefined) {
    const d = got.video.duration;
    if (typeof d !== "number" || Math.abs(d - Number(v.duration)) > DURATION_TOLERANCE)
      check("duration", d, Number(v.duration));
  }
  // The declared bit rate ffprobe reports for MPEG video; MP4's is measured from the sample sizes instead.
  if (got.container !== "mp4" && v.bit_rate !== undefined)
    check("bit rate", got.video.bitRate, Number(v.bit_rate));
  if (got.container === "ps" || got.container === "ts" || got.container === "m2ts") {
    // PS ids are 0x100 + stream_id for MPEG streams, the sub-stream id inside private_stream_1 (ffmpeg's ids).
    const id = (s: FfprobeStream) => {
      const n = Number(s.id);
      return got.container === "ps" && n >= 0x100 ? n - 0x100 : n;
    };
    const theirs = want.streams.map((s) => `${id(s)} ${s.codec_type}`).sort();
    check(
      "streams",
      got.streams
        .map((s) => `${s.id} ${s.kind}`)
        .sort()
        .join(", "),
      theirs.join(", "),
    );
  }
  // The unit of pts/dts: ffprobe's time_base is 1/timeScale (an ES has no clock of its own, ffprobe invents one).
  if (got.container !== "es" && typeof v.time_base === "string")
    check("time base", got.timeScale === undefined ? undefined : `1/${got.timeScale}`, v.time_base);
  // One packet per frame: a field picture pair is one.
  const starters: number[] = [];
  let openField = false;
  got.pictures.forEach((p, i) => {
    if (p.structure === "frame" || !openField) starters.push(i);
    openField = p.structure !== "frame" && !openField;
  });
  check("frames", starters.length, want.packets.length);
  const stamped = ["ps", "ts", "m2ts", "mp4"].includes(got.container);
  for (let k = 0; k < Math.min(starters.length, want.packets.length); k++) {
    const p = got.pictures[starters[k]!]!;
    const w = want.packets[k]!;
    if (w.pos !== null) check(`frame ${k} pos`, p.pos, w.pos);
    // A packet ffprobe gives no pos began inside an earlier PES: the container stamped it with nothing, and
    // ffmpeg's pts/dts for it are its own interpolation.
    if (stamped && w.pos === null) check(`frame ${k} pts (not in the container)`, p.pts, null);
    else if (stamped) {
      check(`frame ${k} pts`, p.pts, w.pts);
      check(`frame ${k} dts`, p.dts, w.pts === null ? null : w.dts);
    }
  }
  // ffmpeg's decoder leaves the first GOP's time code off an intra-only stream (no reordering delay): the
  // first of inspect's may be missing from ffprobe's list, no other.
  const ours = got.gops.flatMap((g) => (g.timeCode === null ? [] : [g.timeCode]));
  const theirs = want.timecodes.map((t) => t.timecode);
  const skipped = ours.length - theirs.length === 1 ? 1 : 0;
  check("time codes", ours.slice(skipped).join(" "), theirs.join(" "));
  return problems;
}
