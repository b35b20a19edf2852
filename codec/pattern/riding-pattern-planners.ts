/** @module Both pattern planners on one RecordingIndexer scan: the recording's video format picks whose plan is used. */

import { codecError } from "../codec-error.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { VideoObserver } from "../container/video-observer.ts";
import type { RecordingIndex } from "../recording-index.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import { EsPatternPlanner } from "./es-pattern-planner.ts";
import { H264EsPatternPlanner } from "./h264-es-pattern-planner.ts";
import { H264PatternPlanner } from "./h264-pattern-planner.ts";
import { MAX_PATTERN_HEADER_BYTES } from "./pattern-header.ts";
import { patternHeaderV3Length } from "./pattern-header-v3.ts";
import { type PatternPlan, PatternPlanner } from "./pattern-planner.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { DEFAULT_H264_PATTERN_SCHEME, DEFAULT_PATTERN_SCHEME, type PatternScheme } from "./pattern-scheme.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import { UnitRunTable } from "./unit-run-table.ts";

/**
 * An indexer feeding an MPEG-1/2 planner (slice-block) and an H.264 planner (cbcs) at once: the container's
 * format is known only once its tables or first bytes are read, and pass 1 reads the file once. finish(index)
 * returns the plan of the recording's own format (unsupported for MP4, HEVC and unknown video).
 *
 * MPEG-1/2 slice-block in a PS or TS is planned in ES coordinates (EsPatternPlanner, pattern header version 3):
 * packet headers cut its slices, and a plan in file offsets has a row per 16-byte crypt block there. An ES
 * keeps the version 1 plan (a row per slice already), as do the other MPEG-1/2 schemes. H.264 cbcs is planned
 * in ES coordinates too (H264EsPatternPlanner, version 4): the version 2 plan has a row per block everywhere.
 * `esPlan: false` plans versions 1 and 2 (what an older receiver reads; the benches compare them).
 */
export function ridingPatternPlanners(
  schemes: {
    mpeg?: PatternScheme;
    h264?: PatternScheme;
    esPlan?: boolean;
    /** Where the planners' tables keep their full blocks (PatternPlanner's `store`; the ES planners' slices). */
    store?: () => RangeBlockStore;
  } = {},
): {
  indexer: RecordingIndexer;
  finish(index: RecordingIndex): PatternPlan;
} {
  const mpegScheme = schemes.mpeg ?? DEFAULT_PATTERN_SCHEME;
  const h264Scheme = schemes.h264 ?? DEFAULT_H264_PATTERN_SCHEME;
  const mpeg = new PatternPlanner(mpegScheme, schemes.store ? { store: schemes.store } : {});
  // The ES-coordinate planners keep the same unit runs: one table, filled once per run (the indexer reports
  // ~8,000 on a 60 MiB TS), instead of a copy each. With a store, each full 1 MiB part goes there (issue 14).
  const runs = new UnitRunTable({ store: schemes.store });
  const es =
    mpegScheme.kind === "slice-block" && schemes.esPlan !== false
      ? new EsPatternPlanner(mpegScheme, { runs, store: schemes.store?.() })
      : undefined;
  // Only one H.264 planner rides: the version 2 one builds a row per block in pass 1, which version 4 does not need.
  const h264 =
    h264Scheme.kind === "cbcs" && schemes.esPlan !== false
      ? new H264EsPatternPlanner(h264Scheme, { runs, store: schemes.store?.() })
      : new H264PatternPlanner(h264Scheme);
  /** The MPEG-1/2 planner the container calls for, chosen at the first start code (the container is known then). */
  let chosen: PatternPlanner | EsPatternPlanner | undefined;
  const pick = (): PatternPlanner | EsPatternPlanner => {
    if (chosen === undefined) chosen = es !== undefined && indexer.container !== "es" ? es : mpeg;
    return chosen;
  };
  const observer: VideoObserver = {
    startCode: (code, offset) => pick().startCode(code, offset),
    end: (length) => pick().end(length),
    // The planners keep the pictures they still need: the indexer forgets each one (issue 14).
    picture: (p) => pick().picture(p),
    h264Slice: (start, data, end) => h264.h264Slice(start, data, end),
  };
  if (es !== undefined || h264 instanceof H264EsPatternPlanner)
    observer.unitRun = (a, b, c, d, e) => runs.push(a, b, c, d, e);
  const indexer = new RecordingIndexer({ videoObserver: observer });
  mpeg.attach(indexer);
  h264.attach(indexer);
  es?.attach(indexer);
  return {
    indexer,
    finish: (index) => {
      if (index.format === "h264")
        return h264 instanceof H264EsPatternPlanner
          ? esPlanOf(h264Scheme, h264.finish(index))
          : h264.finish(index);
      if (chosen !== es || es === undefined) return mpeg.finish(index);
      return esPlanOf(mpegScheme, es.finish(index));
    },
  };
}

/** A plan in ES coordinates as a PatternPlan (unsupported when there is none), its header's size checked. */
function esPlanOf(scheme: PatternScheme, plan: EsPatternPlan | undefined): PatternPlan {
  const ranges = new PatternRangeTable();
  if (plan === undefined) return { scheme, ranges, encryptedBytes: 0, supported: false };
  // Said before any byte is sent, as PatternPlanner.finish() does: the sender then chooses another protection.
  // About 3.6 MB of header per GiB of TS: the limit is reached near 18 GiB.
  const headerLength = patternHeaderV3Length(plan);
  if (headerLength > MAX_PATTERN_HEADER_BYTES)
    throw codecError(
      "ERR_PATTERN_HEADER_LENGTH",
      `Cannot plan pattern ranges: ${plan.slices.count} slices need a ${headerLength}-byte header, over the ${MAX_PATTERN_HEADER_BYTES}-byte limit`,
      0,
    );
  return { scheme, ranges, encryptedBytes: plan.encryptedBytes, supported: true, es: plan };
}
