/** @module Split and merge throughput: the codec's router and merger in-process, and `pvrlink split|merge` as processes. */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { encodeSplitHeaders, type SplitPartKind } from "../../codec/split/split-format.ts";
import { SplitMerger } from "../../codec/split/split-merger.ts";
import { measureProcess, measureSync, type Rate } from "./measure.ts";

const CHUNK = 4 * 1024 * 1024;

function chunksOf(parts: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) for (let at = 0; at < p.length; at += CHUNK) out.push(p.subarray(at, at + CHUNK));
  return out;
}

/**
 * Rates for one recording: routing alone (RangeRouter, views only), merging alone (SplitMerger pulled by
 * needs(), SHA-256 included), and the two commands as whole processes (both passes, disk writes and fsync).
 */
export async function splitMergeRates(
  label: string,
  bytes: Uint8Array,
  path: string,
  binary: string,
  workDir: string,
  runs: number,
): Promise<{ rates: Record<string, Rate>; ranges: number }> {
  const index = indexRecording(bytes);
  const ranges = index.protectedRanges;
  const sha256 = createHash("sha256").update(bytes).digest();
  const headers = encodeSplitHeaders({
    container: index.container,
    originalLength: bytes.length,
    sha256,
    ranges,
  });
  const input = chunksOf([bytes]);
  const routed = { protected: [headers.protected], direct: [headers.direct] };
  const rates: Record<string, Rate> = {};
  rates.route = measureSync(
    `RangeRouter alone (${label}, ${ranges.length} ranges)`,
    bytes.length,
    runs,
    () => {
      const router = new RangeRouter(ranges, bytes.length);
      routed.protected.length = 1;
      routed.direct.length = 1;
      for (const c of input) {
        const r = router.push(c);
        routed.protected.push(...r.protected);
        routed.direct.push(...r.direct);
      }
      router.finish();
    },
  );
  const parts: Record<SplitPartKind, Uint8Array[]> = {
    protected: chunksOf([Buffer.concat(routed.protected)]),
    direct: chunksOf([Buffer.concat(routed.direct)]),
  };
  rates.merge = measureSync(`SplitMerger alone, SHA-256 included (${label})`, bytes.length, runs, () => {
    const merger = new SplitMerger();
    const next = { protected: 0, direct: 0 };
    for (let want = merger.needs(); want !== undefined; want = merger.needs()) {
      merger.push(want, parts[want][next[want]++]!);
    }
    merger.finish();
  });
  const dir = join(workDir, "split-parts");
  const merged = join(workDir, "merged");
  rates.splitProcess = await measureProcess(
    `pvrlink split ${label} (process, 2 passes, fsync)`,
    bytes.length,
    runs,
    [binary, "split", path, "--out", dir],
  );
  rates.mergeProcess = await measureProcess(`pvrlink merge ${label} (process, fsync)`, bytes.length, runs, [
    binary,
    "merge",
    dir,
    "--out",
    merged,
  ]);
  await rm(dir, { recursive: true, force: true });
  await rm(merged, { force: true });
  return { rates, ranges: ranges.length };
}
