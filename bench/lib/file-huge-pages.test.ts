/** @module Tests for parseFileHugePagesMiB: the FileHugePages line of /proc/meminfo, and texts without one. */
import { describe, expect, test } from "bun:test";
import { parseFileHugePagesMiB } from "./file-huge-pages.ts";

describe("parseFileHugePagesMiB()", () => {
  const cases: [string, string, number | undefined][] = [
    [
      "reads the line among others",
      "MemTotal:       24684160 kB\nFileHugePages:    630784 kB\nFilePmdMapped:         0 kB\n",
      616,
    ],
    ["reads 0", "FileHugePages:         0 kB", 0],
    ["is undefined without the line", "MemTotal:       24684160 kB\n", undefined],
    ["is undefined for another unit", "FileHugePages:    630784 MB\n", undefined],
    ["is undefined for a non-number", "FileHugePages:    lots kB\n", undefined],
    ["does not take a longer field name", "ShmemFileHugePages:    2048 kB\n", undefined],
    ["is undefined for an empty text", "", undefined],
  ];
  test.each(cases)("parseFileHugePagesMiB() %s", (_name, text, want) => {
    expect(parseFileHugePagesMiB(text)).toBe(want);
  });

  test("parseFileHugePagesMiB() takes random bytes without throwing", () => {
    for (let k = 0; k < 2000; k++) {
      const bytes = Uint8Array.from({ length: k % 300 }, (_, i) => (i * 7919 + k * 104729) & 0xff);
      expect(() => parseFileHugePagesMiB(new TextDecoder().decode(bytes))).not.toThrow();
    }
  });
});
