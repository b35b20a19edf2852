/** @module safeFileName(): any recording name as one safe file name. */
import { describe, expect, test } from "bun:test";
import { safeFileName } from "./safe-file-name.ts";

describe("safeFileName()", () => {
  const names: Array<[string, string, string]> = [
    ["keeps a plain name and its extension", "holiday.mpg", "holiday.mpg"],
    ["keeps only the last path component", "../../etc/passwd", "passwd"],
    ["replaces separators and shell characters", "a/b\\c:d*e?.ts", "b_c_d_e_.ts"],
    ["drops a leading dot (no hidden files)", ".hidden", "hidden"],
    ["names an empty name 'recording'", "", "recording"],
    ["keeps letters of any script, replaces punctuation", "Tatort – Folge 1.ts", "Tatort _ Folge 1.ts"],
  ];
  for (const [why, name, want] of names) {
    test(`safeFileName() ${why}: '${name}' is '${want}'`, () => {
      expect(safeFileName(name)).toBe(want);
    });
  }
});
