/**
 * @module Compares a VideoIndexer's pictures with ffprobe's frames, frame by frame in stream order (tests only).
 *
 * ffprobe -show_frames lists frames in display order, one per field pair; sorted by pkt_pos they are in stream
 * order. For a raw ES, ffmpeg's parser starts each packet where the previous coded frame ended, so a frame's
 * pkt_pos is the end of the previous frame's last picture (the sequence and GOP headers in between travel
 * with the next frame); the first packet starts at 0.
 */
import type { VideoIndexer } from "../../codec/mpeg-video/video-indexer.ts";

export interface FfprobeFrame {
  pos: number;
  type: string;
}

/** Human-readable mismatches; empty when the index and ffprobe agree on every frame. */
export function compareWithFfprobe(indexer: VideoIndexer, ffprobe: FfprobeFrame[]): string[] {
  const problems: string[] = [];
  const frames = indexer.frames;
  if (frames.length !== ffprobe.length) {
    problems.push(`indexer has ${frames.length} frames, ffprobe ${ffprobe.length}`);
  }
  let previousEnd = 0;
  for (let i = 0; i < Math.min(frames.length, ffprobe.length); i++) {
    const f = frames[i]!;
    const first = indexer.pictures[f.first]!;
    const last = f.second >= 0 ? indexer.pictures[f.second]! : first;
    const want = ffprobe[i]!;
    if (first.type !== want.type) problems.push(`frame ${i}: indexer ${first.type}, ffprobe ${want.type}`);
    if (want.pos !== previousEnd)
      problems.push(`frame ${i}: packet at ${want.pos}, previous frame ends at ${previousEnd}`);
    previousEnd = last.offset + last.length;
  }
  return problems;
}
