/** @module safeFileName(): any recording name as one safe file name. */
import { describe, expect, test } from "bun:test";
import { safeFileName } from "./safe-file-name.ts";

describe("safeFileName()", () => {
  const names: Array<[string, string]> = [
    ["holiday.mpg", "holiday.mpg"],
    ["../../etc/passwd", "passwd"],
    ["a/b\\c:d*e?.ts", "b_c_d_e_.ts"],
    [".hidden", "hidden"],
    ["", "recording"],
    ["Tatort – Folge 1.ts", "Tatort _ Folge 1.ts"],
  ];
  for (const [name, want] of names) {
    test(`safeFileName() makes '${name}' into '${want}'`, () => {
      expect(safeFileName(name)).toBe(want);
    });
  }
});
