/** @module RecordingIndex.details (inspect): the video stream's properties, the other streams of a PS/TS, and each picture's collected details. */
import { VideoIndexer } from "../mpeg-video/video-indexer.ts";
import type {
  PictureRecord,
  RecordingDetails,
  StreamRecord,
  VideoFormat,
  VideoStreamInfo,
} from "../recording-index.ts";
import type { PictureDetails } from "../stream-info/picture-details.ts";
import { programStreams, recordingDetails, transportStreams } from "../stream-info/recording-details.ts";
import { h264VideoInfo, mpegVideoInfo, unknownVideoInfo } from "../stream-info/video-stream-info.ts";
import { H264EsIndexer } from "./h264-es-indexer.ts";
import { PsDemuxer } from "./ps-demuxer.ts";
import { TsDemuxer } from "./ts-demuxer.ts";

/** What RecordingIndexer hands over once the recording is indexed. */
export interface IndexedStreams {
  /** The elementary-stream indexer the video went to. */
  video: { readonly pictures: readonly PictureRecord[] };
  /** The PS or TS demuxer, undefined for an elementary stream. */
  demux: PsDemuxer | TsDemuxer | undefined;
  /** The video was indexed picture by picture (false for HEVC in a TS). */
  fed: boolean;
  format: VideoFormat;
}

/** The details of an indexed PS, TS or ES recording, with each picture's pos and time stamps when collected. */
export function describeRecording(
  s: IndexedStreams,
  collected: PictureDetails | undefined,
): RecordingDetails {
  const v = s.video;
  let video: VideoStreamInfo;
  if (v instanceof VideoIndexer && s.fed) {
    video = mpegVideoInfo({
      mpeg2: v.format === "mpeg2",
      width: v.width,
      height: v.height,
      header: v.sequenceHeader,
      extension: v.sequenceExtension,
      display: v.display,
      coding: v.firstCoding,
      timeCode: v.gops[0]?.timeCode ?? null,
    });
  } else if (v instanceof H264EsIndexer && s.fed) {
    video = h264VideoInfo(v.firstSps);
  } else {
    video = unknownVideoInfo();
  }
  let streams: StreamRecord[] = [];
  const d = s.demux;
  if (d instanceof PsDemuxer) {
    streams = programStreams(d.streamsSeen, d.streamTypes, { id: d.videoStream, format: s.format });
  } else if (d instanceof TsDemuxer) {
    streams = transportStreams(d.streams);
  }
  const c = collected ?? { pos: [], pts: [], dts: [] };
  // PES time stamps count 90 kHz (the default); an elementary stream carries no clock.
  const clock = d === undefined ? { timeScale: null } : {};
  return recordingDetails(video, streams, v.pictures, { pos: c.pos, pts: c.pts, dts: c.dts, ...clock });
}
