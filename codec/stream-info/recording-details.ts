/** @module Assembles inspect's details of a PS/TS/ES recording: video properties, stream list, duration. */
import type {
  PictureRecord,
  RecordingDetails,
  StreamRecord,
  VideoFormat,
  VideoStreamInfo,
} from "../recording-index.ts";
import type { PictureDetails } from "./picture-details.ts";
import { kindOfStreamId, kindOfStreamType, kindOfSubstream, PRIVATE_SUBSTREAM_KEY } from "./stream-kind.ts";

/** PES time stamps count a 90 kHz clock, ISO/IEC 13818-1 2.4.3.7. */
const PES_CLOCK_HZ = 90_000;
/** stream_ids inspect lists: audio and video (Table 2-22) and private_stream_1 sub-streams. */
const AUDIO_OR_VIDEO_FIRST = 0xc0;
const AUDIO_OR_VIDEO_LAST = 0xef;

/** The streams of a Program Stream, from the ids seen and the program stream map's stream types. */
export function programStreams(
  seen: ReadonlyMap<number, number>,
  streamTypes: ReadonlyMap<number, number>,
  video: { id: number; format: VideoFormat },
): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (const key of seen.keys()) {
    if (key >= PRIVATE_SUBSTREAM_KEY) {
      const id = key - PRIVATE_SUBSTREAM_KEY;
      out.push({ id, ...kindOfSubstream(id), streamType: null });
      continue;
    }
    if (key < AUDIO_OR_VIDEO_FIRST || key > AUDIO_OR_VIDEO_LAST) continue; // padding, navigation, ECM...
    const streamType = streamTypes.get(key) ?? null;
    const kind = streamType === null ? kindOfStreamId(key) : kindOfStreamType(streamType);
    out.push({ id: key, ...kind, codec: key === video.id ? video.format : kind.codec, streamType });
  }
  return out;
}

/** The streams a Transport Stream's PMT lists. */
export function transportStreams(streams: readonly { pid: number; streamType: number }[]): StreamRecord[] {
  return streams.map((s) => ({ id: s.pid, ...kindOfStreamType(s.streamType), streamType: s.streamType }));
}

/**
 * Completes the details: duration is the span of the pictures' PTS plus one frame where the PES carry time
 * stamps (ffprobe's stream duration), else frames / frame rate.
 */
export function recordingDetails(
  video: VideoStreamInfo,
  streams: StreamRecord[],
  pictures: readonly PictureRecord[],
  collected: Pick<PictureDetails, "pos" | "pts" | "dts"> & {
    /** Ticks per second of pts/dts: the MP4 track's mdhd timescale; PES time stamps count 90 kHz. */
    timeScale?: number | null;
  },
): RecordingDetails {
  const timeScale = collected.timeScale === undefined ? PES_CLOCK_HZ : collected.timeScale;
  let fields = 0;
  for (const p of pictures) if (p.structure !== "frame") fields++;
  const frames = pictures.length - fields / 2;
  const rate = video.frameRate;
  const frameSeconds = rate ? rate[1] / rate[0] : 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const t of collected.pts) {
    if (t === null) continue;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  let duration: number | null = null;
  if (max >= min && timeScale !== null) duration = (max - min) / timeScale + frameSeconds;
  else if (rate && frames > 0) duration = frames * frameSeconds;
  return {
    video: { ...video, duration },
    streams,
    pos: collected.pos,
    pts: collected.pts,
    dts: collected.dts,
    timeScale,
  };
}
