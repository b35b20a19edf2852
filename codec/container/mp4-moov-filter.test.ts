import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { filterMoov, MAX_TRACK_SAMPLES } from "./mp4-moov-filter.ts";
import { readSampleTable } from "./mp4-sample-table.ts";

const file = new Uint8Array(
  readFileSync(join(import.meta.dir, "../../testdata/containers/mp4-h264-faststart.mp4")),
);
const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
/** The fixture's moov follows its 32-byte ftyp. */
const moov = file.slice(32, 32 + view.getUint32(32));

/** Offset in moov of the n-th box of this type (found by its fourcc after a plausible size). */
function boxAt(bytes: Uint8Array, type: string, n = 0): number {
  const code = [...type].map((c) => c.charCodeAt(0));
  for (let at = 4, seen = 0; at + 4 <= bytes.length; at++) {
    if (code.every((c, i) => bytes[at + i] === c) && seen++ === n) return at - 4;
  }
  throw new Error(`no ${type}`);
}

function damaged(edit: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = moov.slice();
  edit(b, new DataView(b.buffer));
  return b;
}

/** Shrinks a full box to 12 bytes (version/flags only); a free box takes the rest of its place so stbl still adds up. */
function cutBeforeEntryCount(type: string): (b: Uint8Array, v: DataView) => void {
  return (b, v) => {
    const at = boxAt(b, type);
    const size = v.getUint32(at);
    v.setUint32(at, 12);
    v.setUint32(at + 12, size - 12);
    b.set([0x66, 0x72, 0x65, 0x65], at + 16);
  };
}

describe("filterMoov", () => {
  test("filterMoov() reads the video track and rebuilds tables mp4box turns into the same samples", () => {
    const r = filterMoov(moov);
    if (!r.ok) throw new Error(r.message);
    expect(r.track).toMatchObject({
      entryType: "avc1",
      format: "h264",
      width: 176,
      height: 144,
      lengthSize: 4,
      parameterSets: 1,
    });
    // The avcC's SPS is parsed for inspect: x264's High profile, level 1.1, 25 fps in its VUI.
    expect(r.track.sps).toMatchObject({ profileIdc: 100, levelIdc: 11, width: 176, height: 144 });
    expect(r.track.sps?.vui?.timing).toEqual({ numUnitsInTick: 1, timeScale: 50 });
    expect(r.moov.length).toBeLessThan(moov.length);
    const table = readSampleTable(r.moov);
    expect(table.problem).toBeUndefined();
    expect(table.samples.length).toBe(36);
    expect(table.samples.filter((s) => s.sync).length).toBe(3);
    expect(table.samples[0]!.offset).toBeGreaterThan(32 + moov.length);
  });

  const rejects: [string, string, (b: Uint8Array, v: DataView) => void][] = [
    [
      "a constant-size stsz declaring 4294967295 samples (test/cli fuzz seed 579)",
      "declares 4294967295 samples, above",
      (b, v) => {
        const stsz = boxAt(b, "stsz");
        v.setUint32(stsz + 12, 1000);
        v.setUint32(stsz + 16, 0xffffffff);
      },
    ],
    [
      `a constant-size stsz of ${MAX_TRACK_SAMPLES + 1} samples`,
      `above ${MAX_TRACK_SAMPLES}`,
      (b, v) => {
        const stsz = boxAt(b, "stsz");
        v.setUint32(stsz + 12, 1000);
        v.setUint32(stsz + 16, MAX_TRACK_SAMPLES + 1);
      },
    ],
    [
      "an stsz listing more sizes than it holds",
      "more than its",
      (b, v) => v.setUint32(boxAt(b, "stsz") + 16, 1000),
    ],
    [
      "an stts whose entry count exceeds its bytes",
      "stts declares",
      (b, v) => v.setUint32(boxAt(b, "stts") + 12, 2 ** 31),
    ],
    [
      "a ctts whose entry count exceeds its bytes",
      "ctts declares 28 entries",
      (b, v) => v.setUint32(boxAt(b, "ctts") + 12, 28),
    ],
    ["a ctts cut inside its entry count", "ctts is 4 bytes, too short", cutBeforeEntryCount("ctts")],
    ["an stts cut inside its entry count", "stts is 4 bytes, too short", cutBeforeEntryCount("stts")],
    [
      "an stco whose entry count exceeds its bytes",
      "stco declares",
      (b, v) => v.setUint32(boxAt(b, "stco") + 12, 99_999),
    ],
    [
      "an stsc whose entry count exceeds its bytes",
      "stsc declares",
      (b, v) => v.setUint32(boxAt(b, "stsc") + 12, 7),
    ],
    [
      "a box larger than its parent",
      "past its parent's end",
      (b, v) => v.setUint32(boxAt(b, "stbl"), 0x7fffffff),
    ],
    ["a box smaller than its header", "below its header", (b, v) => v.setUint32(boxAt(b, "stts"), 3)],
    ["a video track without stsc", "no stsc", (b) => b.set([0x66, 0x72, 0x65, 0x65], boxAt(b, "stsc") + 4)],
    [
      "a stz2 with field_size 7",
      "field_size 7",
      (b, v) => {
        const stsz = boxAt(b, "stsz");
        b.set([0x73, 0x74, 0x7a, 0x32], stsz + 4);
        v.setUint32(stsz + 12, 7);
      },
    ],
  ];
  for (const [what, message, edit] of rejects) {
    test(`filterMoov() rejects ${what}`, () => {
      const r = filterMoov(damaged(edit));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe("ERR_MP4_MOOV");
        expect(r.message).toContain(message);
      }
    });
  }

  test("filterMoov() reports a moov whose tracks are all audio", () => {
    const r = filterMoov(damaged((b) => b.set([0x73, 0x6f, 0x75, 0x6e], boxAt(b, "vide") + 4)));
    expect(r).toMatchObject({ ok: false, code: "ERR_MP4_NO_VIDEO" });
  });

  test("filterMoov() never throws on a truncated moov", () => {
    for (let n = 0; n < moov.length; n += 7) {
      const r = filterMoov(moov.subarray(0, n));
      if (r.ok) expect(readSampleTable(r.moov).samples.length).toBeLessThanOrEqual(36);
    }
  });
});
