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
