/** @module Parses the aggregate "cpu" line of /proc/stat into busy and total jiffies. */
import { ProcParseError } from "./proc-parse-error.ts";

/** Cumulative CPU time since boot, in USER_HZ ticks, summed over all CPUs. */
export interface CpuTimes {
  /** Ticks not idle and not waiting for I/O. */
  busy: number;
  /** All ticks. */
  total: number;
}

// proc(5), /proc/stat "cpu" line: user nice system idle iowait irq softirq steal guest guest_nice.
// Linux already counts guest and guest_nice inside user and nice, so summing them too would count them twice.
const IDLE_FIELD = 3;
const IOWAIT_FIELD = 4;
/** user, nice, system, idle: present since Linux 2.4. */
const MIN_FIELDS = 4;
/** Fields 0..7 (through steal) make up the total. */
const TOTAL_FIELDS = 8;

/** Parses /proc/stat text; throws ProcParseError when the aggregate cpu line is missing or malformed. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => l.startsWith("cpu ") || l.startsWith("cpu\t"));
  if (line === undefined) {
    throw new ProcParseError("ERR_PROC_STAT_NO_CPU", "Cannot parse /proc/stat: no aggregate 'cpu' line");
  }
  const fields = line.trim().split(/\s+/).slice(1);
  if (fields.length < MIN_FIELDS) {
    throw new ProcParseError(
      "ERR_PROC_STAT_FIELDS",
      `Cannot parse /proc/stat: cpu line has ${fields.length} fields, at least ${MIN_FIELDS} needed`,
    );
  }
  const ticks = fields.slice(0, TOTAL_FIELDS).map((f, i) => {
    if (!/^\d{1,20}$/.test(f)) {
      throw new ProcParseError(
        "ERR_PROC_STAT_FIELD",
        `Cannot parse /proc/stat: cpu field ${i} '${f.slice(0, 20)}' is not a count`,
      );
    }
    return Number(f);
  });
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[IDLE_FIELD] ?? 0) + (ticks[IOWAIT_FIELD] ?? 0);
  return { busy: total - idle, total };
}
