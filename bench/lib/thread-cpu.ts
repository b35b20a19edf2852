/** @module CPU time per thread kind of a live process, from /proc/PID/task: which of a role's threads a transfer's CPU went to. */
import { readdirSync, readFileSync } from "node:fs";

/** USER_HZ of /proc/PID/task/TID/stat's utime and stime on Linux. */
const CLOCK_TICKS = 100;

/**
 * The thread kinds a Bun process runs, by the name /proc gives each thread (comm, 15 bytes at most). Bun's
 * thread pool runs async file I/O and WebCrypto's work; JavaScriptCore's compiler threads (JITWorker) tier code
 * up; its collector's helper threads mark; mimalloc's scavenger purges freed pages.
 */
const KINDS: ReadonlyArray<readonly [kind: string, test: RegExp]> = [
  ["pool", /^Bun Pool/],
  ["jit", /^JITWorker|^JSCWarmUp/],
  ["gc", /^HeapHelper|ollector Thread|^Heap Helper/],
  ["scavenger", /^mi-scavenger/],
  ["http", /^HTTP Client/],
];

/** A thread's kind: "main" for the process's own first thread, a KINDS name, or "other". */
function kindOf(pid: number, tid: string, name: string): string {
  if (tid === String(pid)) return "main";
  for (const [kind, test] of KINDS) if (test.test(name)) return kind;
  return "other";
}

/**
 * CPU seconds (user + system) of each thread of `pid` so far, keyed by thread id and kind ("TID kind"). Empty
 * once the process is gone; a thread that exits between the listing and its read is left out, so a caller that
 * wants a short-lived process's whole figure keeps the highest reading of each key (see mergeThreadCpu()).
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      // Fields after the parenthesised name; utime and stime are fields 14 and 15 (proc(5)).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${tid} ${kindOf(pid, tid, name)}`, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {}
  }
  return out;
}

/** Keeps into `into` the higher reading of each thread of `reading`: a thread's CPU time only grows. */
export function mergeThreadCpu(into: Map<string, number>, reading: Map<string, number>): void {
  for (const [key, seconds] of reading) into.set(key, Math.max(into.get(key) ?? 0, seconds));
}

/** CPU seconds by thread kind between two readings of one process (threads started after `before` count whole). */
export function cpuByKind(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const byKind: Record<string, number> = {};
  for (const [key, seconds] of after) {
    const kind = key.slice(key.indexOf(" ") + 1);
    byKind[kind] = (byKind[kind] ?? 0) + seconds - (before.get(key) ?? 0);
  }
  return byKind;
}
