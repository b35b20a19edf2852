/** @module Tests for PictureDetails: a PES's PTS/DTS go to the first picture starting in it, pos to the unit of the packet's first byte. */
import { describe, expect, test } from "bun:test";
import type { PictureRecord } from "../recording-index.ts";
import { PictureDetails } from "./picture-details.ts";

const pic = (offset: number, length: number): PictureRecord => ({
  serial: 0,
  type: "I",
  structure: "frame",
  offset,
  length,
  gop: 0,
  temporalReference: 0,
});
/** Units of 100 ES bytes at file offsets 1000, 1100, ...: what EsUnitMap.unitAt answers for these tests. */
const unitAt = (es: number) => 1000 + Math.floor(es / 100) * 100;

describe("PictureDetails", () => {
  test("PictureDetails gives each PES's stamp to the first picture that starts in it, none to a second one", () => {
    const d = new PictureDetails();
    d.start(1000);
    d.stamp(0, 9000, 6000);
    d.stamp(250, 12600, 9600);
    // Pictures at 20 (in PES 0), 150 (still PES 0: no stamp), 260 (PES 250), 400 (PES 250 again: none).
    for (const [o, l] of [
      [20, 130],
      [150, 110],
      [260, 140],
      [400, 50],
    ] as const)
      d.picture(pic(o, l), unitAt);
    expect(d.pts).toEqual([9000, null, 12600, null]);
    expect(d.dts).toEqual([6000, null, 9600, null]);
    // The first picture's packet starts at the first ES byte; each next one where the previous one ended.
    expect(d.pos).toEqual([1000, 1100, 1200, 1400]);
  });

  test("PictureDetails.stamp() keeps stamps sorted and once each, whatever order they come in", () => {
    const d = new PictureDetails();
    d.start(0);
    d.stamp(300, 3, 3);
    d.stamp(100, 1, 1);
    d.stamp(300, 99, 99); // the JavaScript path and the kernel's read-back can both report one PES
    d.stamp(200, 2, 2);
    for (const o of [100, 200, 300]) d.picture(pic(o, 100), unitAt);
    expect(d.pts).toEqual([1, 2, 3]);
  });

  test("PictureDetails gives no stamp to pictures before the first PES with one", () => {
    const d = new PictureDetails();
    d.start(0);
    d.stamp(500, 1, 1);
    d.picture(pic(10, 100), unitAt);
    d.picture(pic(500, 100), unitAt);
    expect(d.pts).toEqual([null, 1]);
  });

  test("PictureDetails stays right across its compaction of used stamps", () => {
    const d = new PictureDetails();
    d.start(0);
    const n = 10_000;
    for (let i = 0; i < n; i++) d.stamp(i * 10, i, i);
    for (let i = 0; i < n; i++) d.picture(pic(i * 10 + 1, 10), unitAt);
    expect(d.pts.every((p, i) => p === i)).toBe(true);
  });
});
