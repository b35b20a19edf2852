import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnlinkedTempFile } from "./unlinked-temp-file.ts";

describe("UnlinkedTempFile", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "unlinked-temp-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("UnlinkedTempFile.create() leaves nothing in its directory", async () => {
    const file = UnlinkedTempFile.create(dir, "pvrlink-test");
    try {
      expect(await readdir(dir)).toEqual([]);
    } finally {
      file.close();
    }
  });

  const cases: Array<{
    name: string;
    writes: Array<[number, number[]]>;
    at: number;
    size: number;
    want: number[];
  }> = [
    { name: "reads back what was written", writes: [[0, [1, 2, 3, 4]]], at: 0, size: 4, want: [1, 2, 3, 4] },
    { name: "reads at a position", writes: [[0, [1, 2, 3, 4]]], at: 2, size: 2, want: [3, 4] },
    {
      name: "reads writes made out of order, a hole as zeros",
      writes: [
        [6, [7, 8]],
        [0, [1, 2]],
      ],
      at: 0,
      size: 8,
      want: [1, 2, 0, 0, 0, 0, 7, 8],
    },
    { name: "reads fewer bytes where the file ends", writes: [[0, [1, 2, 3]]], at: 1, size: 5, want: [2, 3] },
    { name: "reads nothing past the end", writes: [[0, [1]]], at: 9, size: 3, want: [] },
  ];
  for (const c of cases)
    test(`UnlinkedTempFile ${c.name}`, () => {
      const file = UnlinkedTempFile.create(dir, "pvrlink-test");
      try {
        for (const [position, bytes] of c.writes) file.write(new Uint8Array(bytes), position);
        const into = new Uint8Array(c.size);
        const n = file.read(into, c.at);
        expect(Array.from(into.subarray(0, n))).toEqual(c.want);
      } finally {
        file.close();
      }
    });

  test("UnlinkedTempFile.create() in a missing directory throws ENOENT", () => {
    expect(() => UnlinkedTempFile.create(join(dir, "missing"), "pvrlink-test")).toThrow("ENOENT");
  });
});
