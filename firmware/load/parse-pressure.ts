/** @module Parses /proc/pressure/cpu (Linux PSI) into its "some" averages. */
import { ProcParseError } from "./proc-parse-error.ts";

/** One PSI line: share of wall time (percent) some task was stalled on the CPU, over 10/60/300 s. */
export interface PressureAverages {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time in microseconds. */
  total: number;
}

// Documentation/accounting/psi.rst: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0"; a "full" line follows
// since Linux 5.13 for cpu. Only "some" matters for "can this box take more work".
const KEYS = ["avg10", "avg60", "avg300", "total"] as const;

/** Parses PSI text; throws ProcParseError when the "some" line is missing or a field is malformed. */
export function parsePressure(text: string): PressureAverages {
  const line = text.split("\n").find((l) => l.startsWith("some "));
  if (line === undefined) throw new ProcParseError("ERR_PSI_NO_SOME", "Cannot parse PSI: no 'some' line");
  const values = new Map<string, string>();
  for (const part of line.trim().split(/\s+/).slice(1)) {
    const eq = part.indexOf("=");
    if (eq > 0) values.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const out: Record<string, number> = {};
  for (const key of KEYS) {
    const raw = values.get(key);
    if (raw === undefined)
      throw new ProcParseError("ERR_PSI_FIELD", `Cannot parse PSI: 'some' line lacks ${key}`);
    const pattern = key === "total" ? /^\d{1,20}$/ : /^\d{1,3}(\.\d{1,2})?$/;
    const v = Number(raw);
    if (!pattern.test(raw) || (key !== "total" && v > 100)) {
      throw new ProcParseError(
        "ERR_PSI_FIELD",
        `Cannot parse PSI: ${key}='${raw.slice(0, 20)}' is not a valid value`,
      );
    }
    out[key] = v;
  }
  return { avg10: out.avg10!, avg60: out.avg60!, avg300: out.avg300!, total: out.total! };
}
