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

/** Times a whole process from spawn to exit; a non-zero exit aborts the bench with its stderr. */
export async function measureProcess(
  name: string,
  bytes: number,
  runs: number,
  cmd: string[],
): Promise<Rate> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Bun.nanoseconds();
    const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
    const code = await proc.exited;
    times.push((Bun.nanoseconds() - t0) / 1e9);
    if (code !== 0) {
      throw new Error(`bench: ${cmd.join(" ")} exited ${code}: ${await new Response(proc.stderr).text()}`);
    }
  }
  return rate(name, bytes, times);
}
