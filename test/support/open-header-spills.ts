/** @module openHeaderSpills(): how many header spill files (firmware/files/header-spill-file.ts) this process holds open, for tests that they are closed on every path. */
import { readdirSync, readlinkSync } from "node:fs";

/** This process's open descriptors on header spill files (unlinked at once: found by their links, not a directory). */
export function openHeaderSpills(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes("pvrlink-header-")) n++;
    } catch {
      // The descriptor readdir itself used is gone already.
    }
  }
  return n;
}
