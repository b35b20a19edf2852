/** @module CPU time a process has used so far, from /proc/PID/stat: what a bench divides by its operations when the cores are shared. */

import { readFileSync } from "node:fs";

/** USER_HZ: the unit of /proc/PID/stat times, 100 on Linux (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SEC = 100;

/** User + system CPU seconds a process has used so far (/proc/PID/stat utime and stime, proc(5)). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after its closing parenthesis: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
}

/**
 * Seconds the process's main thread has spent runnable but waiting for a CPU so far (/proc/PID/schedstat, the
 * second field; the kernel's schedstats): on shared cores, the part of a request's latency that is the
 * scheduler's, not the server's. The main thread is the one that serves (the event loop).
 */
export function runQueueSecondsOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
}
