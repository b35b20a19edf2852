/** @module Runs the recorder's own work beside the recording: lowers this process's CPU (nice) and I/O (ioprio) priority, from the config file. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { IOPRIO_LEVEL_MAX, type IoClass, setIoPriority } from "./io-priority.ts";

/**
 * How far the daemon and `send` step back for the recording. Why nice plus ioprio rather than a cgroup weight:
 * both work for any unprivileged process, on any init system, and are inherited by what it starts, while a
 * cgroup's cpu.weight needs a delegated cgroup v2 subtree (systemd's unit CPUWeight=/IOWeight= already give that
 * where it exists, with no code here). Bun has no ioprio binding, so io-priority.ts calls the kernel through libc.
 */
export interface ProcessPriority {
  /** The nice value to move to, 0 (unchanged) to 19 (last); a process already nicer keeps its own. */
  nice: number;
  /**
   * "best-effort" at ioLevel (the default, level 7: last among normal I/O, never starved), "idle" (I/O only
   * when no one else wants the disk: a recording that writes all the time could stall a send indefinitely), or
   * "unchanged". The kernel derives best-effort (nice + 20) / 5 = 7 from nice 19 anyway; setting it says so,
   * and keeps it when nice is configured back to 0.
   */
  io: IoClass | "unchanged";
  ioLevel: number;
}

/** Nice 19 weighs 15 against the recording's 1024 (kernel/sched/core.c sched_prio_to_weight): ~1.5% of a shared CPU. */
export const DEFAULT_PROCESS_PRIORITY: ProcessPriority = { nice: 19, io: "best-effort", ioLevel: 7 };

const NICE_MAX = 19;
const IO_CLASSES = new Set(["best-effort", "idle", "unchanged"]);

/** What lowerProcessPriority() did: the values now in force, and anything it could not do (never fatal). */
export interface PriorityOutcome {
  nice: number;
  io: string;
  /** Threads the settings were applied to: on Linux nice and ioprio are per thread. */
  threads: number;
  /** Set when this process leads its session, so the autogroup's nice is its own (sched(7)). */
  autogroupNice?: number;
  problems: string[];
}

/** Parses the config file's `priority` object; unknown keys and out-of-range values fail as `what: why`. */
export function parseProcessPriority(
  v: unknown,
  fail: (what: string, why: string) => never,
): ProcessPriority {
  if (v === undefined) return { ...DEFAULT_PROCESS_PRIORITY };
  if (typeof v !== "object" || v === null || Array.isArray(v)) return fail("priority", "is not an object");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(k in DEFAULT_PROCESS_PRIORITY)) fail("priority", `unknown key '${k}'`);
  const int = (key: "nice" | "ioLevel", max: number): number => {
    const n = o[key] ?? DEFAULT_PROCESS_PRIORITY[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max)
      fail(`priority.${key}`, `${JSON.stringify(n)} is not an integer in [0, ${max}]`);
    return n as number;
  };
  const io = o.io ?? DEFAULT_PROCESS_PRIORITY.io;
  if (typeof io !== "string" || !IO_CLASSES.has(io))
    fail("priority.io", `${JSON.stringify(io)} is not "best-effort", "idle" or "unchanged"`);
  return {
    nice: int("nice", NICE_MAX),
    io: io as ProcessPriority["io"],
    ioLevel: int("ioLevel", IOPRIO_LEVEL_MAX),
  };
}

/** This process's threads (Linux: /proc/self/task), or just this one where there is no /proc. */
function threadIds(): number[] {
  try {
    return readdirSync("/proc/self/task").map(Number).filter(Number.isInteger);
  } catch {
    return [0];
  }
}

/** Field 6 of /proc/self/stat (after the parenthesised command name, which may hold spaces): the session id. */
function sessionId(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
  } catch {
    return undefined;
  }
}

/**
 * Applies p to every thread of this process (setpriority and ioprio_set act on one thread on Linux; threads
 * started later inherit from their creator). Never raises a priority, never throws: a recorder that cannot step
 * back still works, and `problems` says why.
 */
export function lowerProcessPriority(p: ProcessPriority): PriorityOutcome {
  const problems: string[] = [];
  const tids = threadIds();
  const nice = Math.max(p.nice, getPriority(0));
  for (const tid of tids) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
    } catch (err) {
      // A thread that ended between the listing and the call is no problem.
      if ((err as NodeJS.ErrnoException).code !== "ESRCH")
        problems.push(`Cannot lower CPU priority: ${(err as Error).message}`);
    }
  }
  let io = "unchanged";
  if (p.io !== "unchanged") {
    try {
      for (const tid of tids) setIoPriority(p.io, p.ioLevel, tid);
      io = `${p.io}/${p.ioLevel}`;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  // With autogroups (sched_autogroup_enabled) the scheduler first shares the CPU between sessions, so nice only
  // ranks threads within one: a daemon that leads its own session (systemd starts each service so) sets its
  // group's nice too. A command run from a shell shares the shell's session and leaves it alone.
  let autogroupNice: number | undefined;
  if (nice > 0 && sessionId() === process.pid && existsSync("/proc/self/autogroup")) {
    try {
      writeFileSync("/proc/self/autogroup", String(nice));
      autogroupNice = nice;
    } catch (err) {
      problems.push(`Cannot lower the session's CPU priority: ${(err as Error).message}`);
    }
  }
  return {
    nice: getPriority(0),
    io,
    threads: tids.length,
    ...(autogroupNice !== undefined ? { autogroupNice } : {}),
    problems,
  };
}
