/** @module How much of the page cache the kernel holds in huge folios (`FileHugePages`), for reading a run's figures. */
import { readFileSync } from "node:fs";

/**
 * `FileHugePages` from /proc/meminfo in MiB, or undefined where the kernel does not report it. A whole-process
 * inspect spends half its time copying the file out of the page cache, and on the bench VM that copy took
 * 22 ms from huge folios and 34–43 ms from small ones (docs/benchmarks.md, Parse): the bench prints this beside
 * the process figures so a run can be read for what it measured.
 */
export function fileHugePagesMiB(): number | undefined {
  try {
    return parseFileHugePagesMiB(readFileSync("/proc/meminfo", "utf8"));
  } catch {
    return undefined; // no /proc (not Linux): the figure is simply not reported
  }
}

/** The `FileHugePages:  N kB` line of a /proc/meminfo text, in MiB; undefined when the line is missing or malformed. */
export function parseFileHugePagesMiB(meminfo: string): number | undefined {
  const m = /^FileHugePages:[ \t]+(\d+) kB$/m.exec(meminfo);
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}
