/** @module Split and merge of a recording held in memory: the streaming pieces run over whole buffers. */
import { createHash } from "node:crypto";
import type { ByteRange, ContainerKind } from "../recording-index.ts";
import { RangeRouter } from "./range-router.ts";
import { encodeSplitHeaders, type SplitHeader } from "./split-format.ts";
import { SplitMerger } from "./split-merger.ts";

/** The two parts of a split, each a complete part file (header + body). */
export interface SplitParts {
  protected: Uint8Array;
  direct: Uint8Array;
}

/** Splits bytes by a protected-range table (from the recording's index). Copies: for tests and small data. */
export function splitBytes(
  bytes: Uint8Array,
  ranges: readonly ByteRange[],
  container: ContainerKind,
): SplitParts {
  const sha256 = createHash("sha256").update(bytes).digest();
  const headers = encodeSplitHeaders({ container, originalLength: bytes.length, sha256, ranges });
  const routed = new RangeRouter(ranges, bytes.length).push(bytes);
  return {
    protected: concat([headers.protected, ...routed.protected]),
    direct: concat([headers.direct, ...routed.direct]),
  };
}

/** Merges two complete parts and verifies the result; throws ERR_SPLIT_* CodecErrors. */
export function mergeBytes(parts: SplitParts): { bytes: Uint8Array; header: SplitHeader } {
  const merger = new SplitMerger();
  const out: Uint8Array[] = [];
  out.push(...merger.push("protected", parts.protected));
  out.push(...merger.push("direct", parts.direct));
  const header = merger.finish();
  return { bytes: concat(out), header };
}

/** Concatenates views into one new buffer. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
