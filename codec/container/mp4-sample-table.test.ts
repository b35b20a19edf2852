/** @module readSampleTable(): each sample's decoding and composition time from damaged stts/ctts, and no sample lost to a bad clock. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { filterMoov } from "./mp4-moov-filter.ts";
import { readSampleTable } from "./mp4-sample-table.ts";

const file = new Uint8Array(
  readFileSync(join(import.meta.dir, "../../testdata/containers/mp4-h264-faststart.mp4")),
);
/** The fixture's moov follows its 32-byte ftyp. */
const moov = file.slice(32, 32 + new DataView(file.buffer, file.byteOffset).getUint32(32));
/** The fixture: 36 samples, one stts entry (36 x 512 ticks), a version 0 ctts of 27 entries. */
const SAMPLES = 36;
const DELTA = 512;

/** Offset in moov of the box of this type (its fourcc after a plausible size). */
function boxAt(type: string): number {
  const code = [...type].map((c) => c.charCodeAt(0));
  for (let at = 4; at + 4 <= moov.length; at++) if (code.every((c, i) => moov[at + i] === c)) return at - 4;
  throw new Error(`no ${type}`);
}
/** Box header 8 + version/flags 4: entry_count, then the first entry's sample_count and delta/offset. */
const STTS = boxAt("stts");
const CTTS = boxAt("ctts");
const ENTRY_COUNT = 12;
const FIRST_COUNT = 16;
const FIRST_VALUE = 20;

function samplesOf(edit: (b: Uint8Array, v: DataView) => void) {
  const b = moov.slice();
  edit(b, new DataView(b.buffer));
  const r = filterMoov(b);
  if (!r.ok) throw new Error(r.message);
  return readSampleTable(r.moov);
}

describe("readSampleTable()", () => {
  test("readSampleTable() reads the fixture's DTS from stts and CTS from ctts (ffprobe's values before the edit)", () => {
    const { samples, dropped, problem } = samplesOf(() => {});
    expect({ n: samples.length, dropped, problem }).toEqual({ n: SAMPLES, dropped: 0, problem: undefined });
    expect(samples.map((s) => s.dts)).toEqual(samples.map((_, i) => i * DELTA));
    // ffprobe: the first packets' pts are 0, 1536, 512, 1024 after the edit list's -1024 shift.
    expect(samples.slice(0, 4).map((s) => s.cts)).toEqual([1024, 2560, 1536, 2048]);
  });

  const cases: Array<{
    what: string;
    edit: (b: Uint8Array, v: DataView) => void;
    /** [dts, cts] of the samples at the given indices. */
    want: Record<number, [number | null, number | null]>;
  }> = [
    {
      what: "reads a version 1 ctts's offsets as signed (ISO/IEC 14496-12 8.6.1.3)",
      edit: (b, v) => {
        b[CTTS + 8] = 1;
        v.setInt32(CTTS + FIRST_VALUE, -1024);
      },
      want: { 0: [0, -1024], 1: [512, 2560] },
    },
    {
      what: "reads a version 0 ctts offset with its top bit set as negative, as ffmpeg does",
      edit: (_, v) => v.setUint32(CTTS + FIRST_VALUE, 0xfffffc00),
      want: { 0: [0, -1024] },
    },
    {
      what: "gives no time to samples past an stts that covers fewer samples than stsz, and keeps them",
      edit: (_, v) => v.setUint32(STTS + FIRST_COUNT, 10),
      want: { 9: [9 * DELTA, 5120], 11: [null, null], 35: [null, null] },
    },
    {
      what: "stops at stsz's count when stts covers more samples",
      edit: (_, v) => v.setUint32(STTS + FIRST_COUNT, 100),
      want: { 35: [35 * DELTA, 18432] },
    },
    {
      what: "stops at stsz's count when a ctts entry covers more samples than the track has",
      edit: (_, v) => v.setUint32(CTTS + FIRST_COUNT, 1000),
      want: { 0: [0, 1024], 1: [DELTA, DELTA + 1024], 35: [35 * DELTA, 35 * DELTA + 1024] },
    },
    {
      what: "keeps every sample of an stts with no entries, with no time after the first",
      edit: (_, v) => v.setUint32(STTS + ENTRY_COUNT, 0),
      want: { 1: [null, null], 35: [null, null] },
    },
    {
      what: "shows a sample past the ctts's entries at its DTS",
      edit: (_, v) => v.setUint32(CTTS + ENTRY_COUNT, 1),
      want: { 0: [0, 1024], 1: [DELTA, DELTA], 35: [35 * DELTA, 35 * DELTA] },
    },
    {
      what: "shows every sample at its DTS under a ctts of unknown version 7",
      edit: (b) => {
        b[CTTS + 8] = 7;
      },
      want: { 0: [0, 0], 35: [35 * DELTA, 35 * DELTA] },
    },
  ];
  for (const { what, edit, want } of cases) {
    test(`readSampleTable() ${what}`, () => {
      const { samples, dropped } = samplesOf(edit);
      expect({ n: samples.length, dropped }).toEqual({ n: SAMPLES, dropped: 0 });
      for (const [i, times] of Object.entries(want)) {
        const s = samples[Number(i)]!;
        expect([s.dts, s.cts]).toEqual(times);
      }
    });
  }

  test("readSampleTable() gives finite times for an stts delta of 2^32-1", () => {
    const { samples } = samplesOf((_, v) => v.setUint32(STTS + FIRST_VALUE, 0xffffffff));
    expect(samples.length).toBe(SAMPLES);
    for (const s of samples) expect(Number.isSafeInteger(s.dts) && Number.isSafeInteger(s.cts)).toBe(true);
  });
});
