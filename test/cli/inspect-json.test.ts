/** @module `pvrlink inspect --json` from the real binary: one stable JSON object per recording, equal to the in-process index. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { runPvrlink, testRecordings } from "../support/pvrlink-process.ts";

/** Version 1's keys first, in their order; version 2 appended video and streams, 3 timeScale (docs/split-format.md). */
const KEYS = [
  "container",
  "format",
  "width",
  "height",
  "counts",
  "gops",
  "pictures",
  "errors",
  "version",
  "video",
  "streams",
  "timeScale",
];

for (const path of testRecordings()) {
  describe(`pvrlink inspect --json ${basename(path)}`, () => {
    test("prints exactly one object with the documented keys, in order, matching the index", async () => {
      const r = await runPvrlink(["inspect", path, "--json"]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout.endsWith("}\n")).toBe(true);
      expect(r.stdout.trimEnd().includes("\n")).toBe(false);
      const got = JSON.parse(r.stdout);
      expect(Object.keys(got)).toEqual(KEYS);
      expect(Object.keys(got.counts)).toEqual(["seq", "gop", "pic", "I", "P", "B", "D"]);
      const index = indexRecording(new Uint8Array(readFileSync(path)));
      expect(got.version).toBe(3);
      // The unit of every picture's pts/dts: 90 kHz PES stamps, an MP4 track's timescale, none for an ES.
      const clocks: Record<string, number | null> = {
        es: null,
        ps: 90_000,
        ts: 90_000,
        m2ts: 90_000,
        mp4: 12_800,
      };
      expect(got.timeScale).toBe(clocks[got.container as string] as number | null);
      expect(got.container).toBe(index.container);
      expect(got.format).toBe(index.format);
      expect([got.width, got.height]).toEqual([index.width, index.height]);
      expect(got.counts).toEqual(index.counts);
      expect(got.pictures.length).toBe(got.counts.pic);
      // Version 1's fields keep their names, order and values; version 2's follow them.
      expect(got.pictures.map((p: object) => Object.keys(p).slice(0, 5))).toEqual(
        got.pictures.map(() => ["serial", "type", "structure", "offset", "length"]),
      );
      expect(
        got.pictures.map(({ serial, type, structure, offset, length }: Record<string, unknown>) => ({
          serial,
          type,
          structure,
          offset,
          length,
        })),
      ).toEqual(
        index.pictures.map(({ serial, type, structure, offset, length }) => ({
          serial,
          type,
          structure,
          offset,
          length,
        })),
      );
      expect(
        got.gops.map(({ offset, closed, brokenLink }: Record<string, unknown>) => ({
          offset,
          closed,
          brokenLink,
        })),
      ).toEqual(index.gops.map(({ offset, closed, brokenLink }) => ({ offset, closed, brokenLink })));
      expect(got.errors).toEqual(
        index.errors.map(({ offset, code, message }) => ({ offset, code, message })),
      );
      for (const p of got.pictures) {
        expect(["I", "P", "B", "D"]).toContain(p.type);
        expect(["frame", "top", "bottom"]).toContain(p.structure);
      }
    });

    test("prints the summary table without --json", async () => {
      const r = await runPvrlink(["inspect", path]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^File {8}.*\nSize /);
      expect(r.stdout).toContain("Pictures");
    });
  });
}
