/** @module CPU time this process's JIT compiler threads have used so far, from /proc/self/task/TID/schedstat: the part of a cost run that is JavaScriptCore tiering code up, not the mode's work. */
import { readdirSync, readFileSync } from "node:fs";

/** JavaScriptCore's compiler threads (DFG and FTL plans), as /proc/self/task/TID/comm names them. */
const JIT_THREAD_NAME = "JITWorker";

/**
 * User + system CPU seconds JavaScriptCore's compiler threads have used so far: the first field of each one's
 * schedstat (nanoseconds on a CPU, the kernel's schedstats), summed. process.cpuUsage() counts them with the
 * main thread: a compile that lands in a measured run is charged to it. 0 where /proc has no such threads
 * (not Linux, or JIT off). A thread that exits between the listing and its read is skipped.
 */
export function jitThreadCpuSeconds(): number {
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return 0;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() !== JIT_THREAD_NAME) continue;
      ns += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {}
  }
  return ns / 1e9;
}
