/** @module Pass 1 of a send: the route a recording takes (by its attributes), its SHA-256 and, for video, the split. */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { InputError } from "../../cli/command.ts";
import { CodecError } from "../../codec/codec-error.ts";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { Mp4PatternPlanner } from "../../codec/pattern/mp4-pattern-planner.ts";
import type { PatternPlan } from "../../codec/pattern/pattern-planner.ts";
import { DEFAULT_H264_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../../codec/pattern/riding-pattern-planners.ts";
import type { RangeBlockStore } from "../../codec/pattern/stored-blocks.ts";
import type { ByteRange, ContainerKind, RecordingIndex } from "../../codec/recording-index.ts";
import { encodeSplitHeaders } from "../../codec/split/split-format.ts";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { indexFile, readChunks, readRange } from "../files/recording-file.ts";
import {
  detectRecordingType,
  type RecordingType,
  TYPE_PROBE_BYTES,
} from "../library/detect-recording-type.ts";
import { DEFAULT_PROTECTION, isLightProtection, type ProtectionMode } from "../library/protection-mode.ts";

import { chooseRoute, type RouteRule, type SendRoute } from "./route-rule.ts";

/**
 * Seed A, issue 4 point 8: secret → the whole recording sealed through the node; not secret and not video →
 * the whole recording direct (clear, authenticated); video and not secret → split: the protected part (I-picture
 * bytes) sealed through the node, the direct part direct, both at once. Seed A variation 10: with a size rule,
 * a small non-secret recording goes whole, sealed, through the node (`small`).
 */
export type { RouteRule, SendRoute } from "./route-rule.ts";

export interface SplitPlanParts {
  container: ContainerKind;
  ranges: readonly ByteRange[];
  /** The two part headers (docs/split-format.md); each part's payload is its header then its body. */
  protectedHeader: Uint8Array;
  directHeader: Uint8Array;
  /** Payload sizes: header + body. */
  protectedSize: number;
  directSize: number;
  /** I-pictures the index found (what the demo prints). */
  iPictures: number;
  /** The protection the split is sent with: pattern only when the plan below exists; sealed unless a light mode was asked for. */
  protection: ProtectionMode;
  /** Pattern mode: the ranges of the direct body to encrypt (codec/pattern): slice-block for MPEG-1/2, cbcs for H.264. */
  pattern?: PatternPlan;
  /** Where the pattern encoder keeps a version 3/4 header (the plan's spill files), if it has one. */
  headerSpill?: () => HeaderSpill;
  /** Why pattern mode was asked for and not used (not MPEG-1/2 video): said to the user. */
  protectionNote?: string;
}

export interface SendPlan {
  path: string;
  name: string;
  size: number;
  /** Hex SHA-256 of the original. */
  sha256: string;
  recordingType: RecordingType;
  secret: boolean;
  route: SendRoute;
  /** Which rule chose the route (said in `send --json` and the summary). */
  rule: RouteRule;
  /**
   * Whether DATA frames on the direct channel are sealed (the default) or clear but authenticated (a light
   * protection mode asked for by the library entry or `--protection`; issue 13).
   */
  sealDirect: boolean;
  split?: SplitPlanParts;
}

/**
 * Pass 1's collection step. Left to JavaScriptCore's own schedule, the garbage the indexer leaves per chunk grows
 * with the heap for the first second or so of the pass, and what it leaves resident is still there when pass 2
 * starts: the sender's peak RSS was ~9 MiB higher for 1 or 4 GiB than for 256 MiB (issue 14 item 1). A full
 * collection every 64 MiB read keeps pass 1 of 4 GiB at 256 MiB's peak (in-process: 60.6 vs 59.4 MiB VmHWM,
 * was 69.1) for ~7% more pass-1 time (64 collections); in the transfer bench the sender's peak for 4 GiB is then
 * 256 MiB's (103 vs 103, 105 vs 104 MiB; was 105-106 vs 96-97).
 */
const PASS1_PACE_BYTES = 64 * 1024 * 1024;

/** Picks the route from the library attributes. */
export function routeFor(type: RecordingType, secret: boolean): SendRoute {
  return chooseRoute({ type, secret, size: 0 }).route;
}

/**
 * Reads the file once: SHA-256 always, plus the RecordingIndexer's protected ranges for a split. The attributes
 * come from the library when the recording is there (`known`), else from the file's first bytes.
 */
export async function planSend(
  handle: FileHandle,
  path: string,
  known: {
    name?: string;
    secret?: boolean;
    type?: RecordingType;
    protection?: ProtectionMode;
    /** The recorder's size rule (config `sealedBelowBytes`). */
    sealedBelowBytes?: number | undefined;
    /**
     * Where a pattern plan's range tables keep their blocks (PlanSpillFiles), so the plan is not held in memory;
     * they must outlive the send. Without it the plan stays in memory.
     */
    spill?: { store: () => RangeBlockStore; header?: () => HeaderSpill } | undefined;
  } = {},
): Promise<SendPlan> {
  let type = known.type;
  if (type === undefined) {
    const probe = new Uint8Array(TYPE_PROBE_BYTES);
    const { bytesRead } = await handle.read(probe, 0, TYPE_PROBE_BYTES, 0);
    type = detectRecordingType(probe.subarray(0, bytesRead), bytesRead < TYPE_PROBE_BYTES);
  }
  const secret = known.secret ?? false;
  const { size: fileSize } = await handle.stat();
  const { route, rule } = chooseRoute({
    type,
    secret,
    size: fileSize,
    sealedBelowBytes: known.sealedBelowBytes,
  });
  const name = known.name ?? basename(path);
  const wanted = known.protection ?? DEFAULT_PROTECTION;
  const sealDirect = !isLightProtection(wanted);
  if (route !== "split") {
    const h = createHash("sha256");
    let size = 0;
    for await (const chunk of readChunks(handle, { reuse: true })) {
      h.update(chunk);
      size += chunk.byteLength;
    }
    const sha256 = h.digest("hex");
    return { path, name, size, sha256, recordingType: type, secret, route, rule, sealDirect };
  }
  // Pattern mode rides pass 1: the planners observe the RecordingIndexer's own scan (MPEG-1/2 start codes,
  // H.264 slices), so planning costs no second demux or scan of the recording.
  const riding =
    wanted === "pattern" ? ridingPatternPlanners(known.spill ? { store: known.spill.store } : {}) : undefined;
  const planner = riding;
  // Without a planner nothing reads the pictures after they are mapped to protected ranges: the indexer forgets
  // them, so pass 1 holds the same memory for 4 GiB as for 256 MiB (issue 14).
  const { index, length, sha256 } = await indexFile(handle, {
    hash: true,
    indexer: riding ? riding.indexer : new RecordingIndexer({ retainPictures: false }),
    pace: new HeapPacer(PASS1_PACE_BYTES),
  });
  let pattern: PatternPlan | undefined;
  let protectionNote: string | undefined;
  if (planner) {
    try {
      const moov = riding?.indexer.mp4Moov;
      pattern =
        index.container === "mp4" && index.format === "h264" && moov
          ? await planMp4Pattern(handle, moov, index)
          : planner.finish(index);
    } catch (err) {
      if (!(err instanceof CodecError || err instanceof RangeError)) throw err;
      protectionNote = `pattern mode could not plan ${name} (${err.message}); sending in seed mode`;
    }
    if (pattern && !pattern.supported) {
      pattern = undefined;
      protectionNote = `pattern mode needs MPEG-1/2 or H.264 video, and ${name} is ${index.format} in ${index.container}: sending in seed mode (use --secret to keep its P/B pictures off the direct path)`;
    }
  }
  try {
    const headers = encodeSplitHeaders({
      container: index.container,
      originalLength: length,
      sha256: sha256 as Uint8Array,
      ranges: index.protectedRanges,
    });
    const protectedBody = index.protectedRanges.reduce((n, r) => n + r.length, 0);
    return {
      path,
      name,
      size: length,
      sha256: Buffer.from(sha256 as Uint8Array).toString("hex"),
      recordingType: type,
      secret,
      route,
      rule,
      sealDirect,
      split: {
        container: index.container,
        ranges: index.protectedRanges,
        protectedHeader: headers.protected,
        directHeader: headers.direct,
        protectedSize: headers.protected.byteLength + protectedBody,
        directSize: headers.direct.byteLength + length - protectedBody,
        iPictures: index.counts.I,
        protection: pattern ? "pattern" : wanted === "pattern" ? "seed" : wanted,
        ...(pattern ? { pattern } : {}),
        ...(pattern && known.spill?.header ? { headerSpill: known.spill.header } : {}),
        ...(protectionNote !== undefined ? { protectionNote } : {}),
      },
    };
  } catch (err) {
    if (err instanceof CodecError) throw new InputError(`Cannot split ${path}: ${err.message}`, err.code);
    throw err;
  }
}

/**
 * An H.264 MP4's cbcs plan: the P/B samples' NAL heads are read with positioned reads, round by round (one
 * round per NAL of the longest sample), a few hundred bytes per NAL, never the media data itself.
 */
async function planMp4Pattern(
  handle: FileHandle,
  moov: Uint8Array,
  index: RecordingIndex,
): Promise<PatternPlan> {
  const planner = new Mp4PatternPlanner(moov, index, { scheme: DEFAULT_H264_PATTERN_SCHEME });
  for (let needed = planner.needed(); needed.length > 0; needed = planner.needed()) {
    for (const r of needed) planner.supply(r.offset, await readRange(handle, r.offset, r.length));
  }
  return planner.finish();
}
