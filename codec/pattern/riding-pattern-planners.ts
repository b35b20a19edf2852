/** @module Both pattern planners on one RecordingIndexer scan: the recording's video format picks whose plan is used. */
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { RecordingIndex } from "../recording-index.ts";
import { H264PatternPlanner } from "./h264-pattern-planner.ts";
import { type PatternPlan, PatternPlanner } from "./pattern-planner.ts";
import { DEFAULT_H264_PATTERN_SCHEME, DEFAULT_PATTERN_SCHEME, type PatternScheme } from "./pattern-scheme.ts";

/**
 * An indexer feeding an MPEG-1/2 planner (slice-block) and an H.264 planner (cbcs) at once: the container's
 * format is known only once its tables or first bytes are read, and pass 1 reads the file once. finish(index)
 * returns the plan of the recording's own format (unsupported for MP4, HEVC and unknown video).
 */
export function ridingPatternPlanners(schemes: { mpeg?: PatternScheme; h264?: PatternScheme } = {}): {
  indexer: RecordingIndexer;
  finish(index: RecordingIndex): PatternPlan;
} {
  const mpeg = new PatternPlanner(schemes.mpeg ?? DEFAULT_PATTERN_SCHEME);
  const h264 = new H264PatternPlanner(schemes.h264 ?? DEFAULT_H264_PATTERN_SCHEME);
  const indexer = new RecordingIndexer({
    videoObserver: {
      startCode: (code, offset) => mpeg.startCode(code, offset),
      end: (length) => mpeg.end(length),
      h264Slice: (start, data, end) => h264.h264Slice(start, data, end),
    },
  });
  mpeg.attach(indexer);
  h264.attach(indexer);
  return {
    indexer,
    finish: (index) => (index.format === "h264" ? h264.finish(index) : mpeg.finish(index)),
  };
}
