/** @module Pins a process, every thread of it, to some of the machine's cores (taskset), for benches that emulate separate machines on one. */

/**
 * Sets the CPU affinity of every thread of `pid` to `cpus` (a taskset list, e.g. "1" or "0-1"). Threads the
 * process starts later inherit it. Throws with taskset's message when it cannot (no such core, no permission).
 */
export function pinCpu(pid: number, cpus: string): void {
  const r = Bun.spawnSync(["taskset", "--all-tasks", "--cpu-list", "--pid", cpus, String(pid)], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    throw new Error(`Cannot pin process ${pid} to CPU ${cpus}: ${r.stderr.toString().trim()}`);
  }
}
