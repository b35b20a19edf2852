/** @module Timing for benches: best-of-n runs of an in-process function or of a whole child process. */

/** One measured rate. */
export interface Rate {
  name: string;
  bytes: number;
  /** Best (shortest) wall time over the runs, in seconds. */
  seconds: number;
  /** bytes / seconds / 1e6. */
  mbps: number;
  runs: number;
  /** Every run's wall time in seconds, in run order (whole-process measures only). */
  times?: number[];
}

function rate(name: string, bytes: number, times: number[]): Rate {
  const seconds = Math.min(...times);
  return { name, bytes, seconds, mbps: bytes / seconds / 1e6, runs: times.length };
}

/**
 * Runs fn `runs` times and keeps the best time: on a shared 2-core machine the minimum is the run least
 * disturbed by neighbours, which is what a ratio between two rates in the same run should compare.
 */
export function measureSync(name: string, bytes: number, runs: number, fn: () => unknown): Rate {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Bun.nanoseconds();
    fn();
    times.push((Bun.nanoseconds() - t0) / 1e9);
  }
  return rate(name, bytes, times);
}

/** Wall time of one whole process from spawn to exit; a non-zero exit aborts the bench with its stderr. */
async function runProcess(cmd: string[]): Promise<number> {
  const t0 = Bun.nanoseconds();
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  const seconds = (Bun.nanoseconds() - t0) / 1e9;
  if (code !== 0) {
    throw new Error(`bench: ${cmd.join(" ")} exited ${code}: ${await new Response(proc.stderr).text()}`);
  }
  return seconds;
}

/** Times a whole process from spawn to exit, best of `runs`. */
export async function measureProcess(
  name: string,
  bytes: number,
  runs: number,
  cmd: string[],
): Promise<Rate> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await runProcess(cmd));
  return { ...rate(name, bytes, times), times };
}

export interface ProcessEntry {
  name: string;
  bytes: number;
  cmd: string[];
}

/**
 * Times several whole processes in interleaved rounds (a, b, c, a, b, c, ...), so a neighbour's burst on the
 * shared machine hits every entry of a round alike and per-round ratios between entries stay meaningful.
 */
export async function measureProcessesInterleaved(entries: ProcessEntry[], runs: number): Promise<Rate[]> {
  const times = entries.map((): number[] => []);
  // One untimed round first: it puts every input back in the page cache (this machine's DAMON-based reclaim
  // pages out file pages idle for ~30 s) and every binary's pages in memory.
  for (const e of entries) await runProcess(e.cmd);
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < entries.length; i++) times[i]!.push(await runProcess(entries[i]!.cmd));
  }
  return entries.map((e, i) => ({ ...rate(e.name, e.bytes, times[i]!), times: times[i]! }));
}

/** Ratios a[i] / b[i] of two interleaved measures, round by round: their spread, as [lowest, median, highest]. */
export function roundRatios(a: Rate, b: Rate): [number, number, number] {
  return lowMedianHigh((a.times ?? []).map((t, i) => t / (b.times?.[i] ?? Number.NaN)));
}

/** The lowest, median (upper median for an even count) and highest of `values`; NaN for none. */
export function lowMedianHigh(values: readonly number[]): [number, number, number] {
  const r = [...values].sort((x, y) => x - y);
  return [r[0] ?? Number.NaN, r[r.length >> 1] ?? Number.NaN, r[r.length - 1] ?? Number.NaN];
}
