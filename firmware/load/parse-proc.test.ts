/** @module Tests for the /proc/stat and PSI parsers, including 2000 corrupted inputs each. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { parsePressure } from "./parse-pressure.ts";
import { parseProcStat } from "./parse-proc-stat.ts";
import { ProcParseError } from "./proc-parse-error.ts";

const STAT = "cpu  3197 0 2798 66363 262 0 53 13 0 0\ncpu0 1362 0 1126 33756 91 0 8 4 0 0\nintr 1 2\n";
const PSI =
  "some avg10=0.81 avg60=0.82 avg300=1.09 total=8933376\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

describe("parseProcStat()", () => {
  test("sums ticks through steal and counts idle plus iowait as not busy", () => {
    const total = 3197 + 2798 + 66363 + 262 + 53 + 13;
    expect(parseProcStat(STAT)).toEqual({ total, busy: total - 66363 - 262 });
  });
  test("accepts a 2.4-era line with four fields", () => {
    expect(parseProcStat("cpu 1 2 3 4\n")).toEqual({ total: 10, busy: 6 });
  });
  test("ignores guest fields already counted in user", () => {
    expect(parseProcStat("cpu 10 0 0 10 0 0 0 0 99 99\n")).toEqual({ total: 20, busy: 10 });
  });
  const bad: Array<[string, string, string]> = [
    ["an empty file", "", "ERR_PROC_STAT_NO_CPU"],
    ["only per-cpu lines", "cpu0 1 2 3 4\n", "ERR_PROC_STAT_NO_CPU"],
    ["three fields", "cpu 1 2 3\n", "ERR_PROC_STAT_FIELDS"],
    ["a negative field", "cpu 1 -2 3 4\n", "ERR_PROC_STAT_FIELD"],
    ["a non-number field", "cpu 1 x 3 4\n", "ERR_PROC_STAT_FIELD"],
    ["a fractional field", "cpu 1 2.5 3 4\n", "ERR_PROC_STAT_FIELD"],
  ];
  for (const [what, text, code] of bad) {
    test(`rejects ${what} with ${code}`, () => {
      expect(() => parseProcStat(text)).toThrow(expect.objectContaining({ code, name: "ProcParseError" }));
    });
  }
});

describe("parsePressure()", () => {
  test("reads the some line", () => {
    expect(parsePressure(PSI)).toEqual({ avg10: 0.81, avg60: 0.82, avg300: 1.09, total: 8933376 });
  });
  test("reads a pre-5.13 file without a full line", () => {
    expect(parsePressure("some avg10=12.50 avg60=1.00 avg300=0.00 total=5\n").avg10).toBe(12.5);
  });
  const bad: Array<[string, string, string]> = [
    ["an empty file", "", "ERR_PSI_NO_SOME"],
    ["only a full line", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "ERR_PSI_NO_SOME"],
    ["a missing avg10", "some avg60=0.82 avg300=1.09 total=1\n", "ERR_PSI_FIELD"],
    ["a missing total", "some avg10=0.81 avg60=0.82 avg300=1.09\n", "ERR_PSI_FIELD"],
    ["an average above 100", "some avg10=100.01 avg60=0 avg300=0 total=1\n", "ERR_PSI_FIELD"],
    ["a garbage value", "some avg10=NaN avg60=0 avg300=0 total=1\n", "ERR_PSI_FIELD"],
    ["an empty value", "some avg10= avg60=0 avg300=0 total=1\n", "ERR_PSI_FIELD"],
  ];
  for (const [what, text, code] of bad) {
    test(`rejects ${what} with ${code}`, () => {
      expect(() => parsePressure(text)).toThrow(expect.objectContaining({ code }));
    });
  }
});

// Fuzz: random mutations of real content and random bytes must parse or throw ProcParseError, never anything else.
function mutate(text: string, r: () => number): string {
  const chars = [...text];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    const ch = String.fromCharCode(Math.floor(r() * 128));
    if (op < 0.33) chars.splice(at, 1);
    else if (op < 0.66) chars.splice(at, 0, ch);
    else chars[at] = ch;
  }
  return chars.join("").slice(0, Math.floor(r() * (chars.length + 2)));
}

describe("/proc parsers under corruption", () => {
  for (const [name, parse, seedText] of [
    ["parseProcStat()", parseProcStat, STAT],
    ["parsePressure()", parsePressure, PSI],
  ] as const) {
    test(`${name} parses or throws ProcParseError for 2000 corrupted inputs`, () => {
      const rnd = new SeededRandom(name.length);
      const r = () => rnd.next();
      let parsed = 0;
      for (let i = 0; i < 2000; i++) {
        const input =
          i % 4 === 0
            ? String.fromCharCode(
                ...Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)),
              )
            : mutate(seedText, r);
        try {
          const out = parse(input);
          for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
          parsed++;
        } catch (err) {
          expect(err).toBeInstanceOf(ProcParseError);
        }
      }
      expect(parsed).toBeGreaterThan(0); // the mutations are mild enough that some inputs still parse
    });
  }
});
