/** @module Tests for mpegVideoInfo() and h264VideoInfo(): profile, level, rates and aspect ratios from header fields. */
import { describe, expect, test } from "bun:test";
import type { PictureCodingExtension } from "../mpeg-video/picture-coding-extension.ts";
import type { SequenceExtension } from "../mpeg-video/sequence-extension.ts";
import type { SequenceHeader } from "../mpeg-video/sequence-header.ts";
import {
  type H264SpsFields,
  h264VideoInfo,
  type MpegVideoHeaders,
  mpegVideoInfo,
} from "./video-stream-info.ts";

const header = (o: Partial<SequenceHeader> = {}) =>
  ({
    horizontalSize: 720,
    verticalSize: 576,
    aspectRatioCode: 3,
    frameRateCode: 3,
    bitRateValue: 24500,
    ...o,
  }) as SequenceHeader;
const extension = (o: Partial<SequenceExtension> = {}) =>
  ({
    profileAndLevel: 0x48,
    progressiveSequence: false,
    chromaFormat: 1,
    bitRateExtension: 0,
    frameRateExtensionN: 0,
    frameRateExtensionD: 0,
    ...o,
  }) as SequenceExtension;
const coding = (o: Partial<PictureCodingExtension> = {}) =>
  ({ topFieldFirst: true, progressiveFrame: false, ...o }) as PictureCodingExtension;

function mpeg2(o: Partial<MpegVideoHeaders> = {}): MpegVideoHeaders {
  return {
    mpeg2: true,
    width: 720,
    height: 576,
    header: header(),
    extension: extension(),
    display: null,
    coding: coding(),
    timeCode: "10:00:00:00",
    ...o,
  };
}

describe("mpegVideoInfo()", () => {
  const cases: [string, MpegVideoHeaders, object][] = [
    [
      "a PAL 16:9 Main@Main interlaced stream",
      mpeg2(),
      {
        profile: "Main",
        level: 8,
        chromaFormat: "4:2:0",
        frameRate: [25, 1],
        sampleAspectRatio: [64, 45],
        displayAspectRatio: [16, 9],
        bitRate: 9_800_000,
        progressive: false,
        fieldOrder: "tt",
        timeCode: "10:00:00:00",
      },
    ],
    ["bottom field first", mpeg2({ coding: coding({ topFieldFirst: false }) }), { fieldOrder: "bb" }],
    [
      "a progressive frame",
      mpeg2({ coding: coding({ progressiveFrame: true }) }),
      { fieldOrder: "progressive" },
    ],
    [
      "4:3 over a 704-wide display area (sequence display extension)",
      mpeg2({
        header: header({ aspectRatioCode: 2 }),
        display: { offset: 0, videoFormat: 1, colour: null, displayWidth: 704, displayHeight: 576 },
      }),
      { sampleAspectRatio: [12, 11], displayAspectRatio: [15, 11] },
    ],
    [
      "NTSC film with frame_rate_extension and High@High 4:2:2 chroma",
      mpeg2({
        header: header({ frameRateCode: 4 }),
        extension: extension({
          profileAndLevel: 0x14,
          chromaFormat: 2,
          frameRateExtensionN: 1,
          frameRateExtensionD: 1,
        }),
      }),
      { profile: "High", level: 4, chromaFormat: "4:2:2", frameRate: [30000, 1001] },
    ],
    [
      "the 4:2:2 profile (escaped)",
      mpeg2({ extension: extension({ profileAndLevel: 0x85 }) }),
      { profile: "4:2:2", level: null },
    ],
    [
      "bit_rate_extension above bit_rate_value",
      mpeg2({ extension: extension({ bitRateExtension: 1 }), header: header({ bitRateValue: 0 }) }),
      { bitRate: 2 ** 18 * 400 },
    ],
    [
      "MPEG-1 with square pels",
      mpeg2({
        mpeg2: false,
        extension: null,
        coding: null,
        header: header({ aspectRatioCode: 1 }),
        width: 352,
        height: 288,
      }),
      {
        profile: null,
        level: null,
        sampleAspectRatio: [1, 1],
        displayAspectRatio: [11, 9],
        progressive: true,
        fieldOrder: null,
      },
    ],
    [
      "MPEG-1 pel aspect 0.9157 (code 8, 4:3 625-line) as ffprobe prints it",
      mpeg2({ mpeg2: false, extension: null, coding: null, header: header({ aspectRatioCode: 8 }) }),
      { sampleAspectRatio: [178, 163] },
    ],
    [
      "MPEG-1 pel aspect 1.0255 (code 10) as ffprobe prints it",
      mpeg2({ mpeg2: false, extension: null, coding: null, header: header({ aspectRatioCode: 10 }) }),
      { sampleAspectRatio: [196, 201] },
    ],
    [
      "no sequence header",
      mpeg2({ header: null }),
      { profile: null, frameRate: null, timeCode: "10:00:00:00" },
    ],
    [
      "a reserved aspect ratio",
      mpeg2({ header: header({ aspectRatioCode: 9 }) }),
      { sampleAspectRatio: null, displayAspectRatio: null },
    ],
  ];
  for (const [what, h, want] of cases)
    test(`mpegVideoInfo() describes ${what}`, () => expect(mpegVideoInfo(h)).toMatchObject(want));
});

describe("h264VideoInfo()", () => {
  const sps = (o: Partial<H264SpsFields> = {}) =>
    ({
      profileIdc: 100,
      constraintFlags: 0,
      levelIdc: 40,
      chromaFormatIdc: 1,
      frameMbsOnly: true,
      width: 1920,
      height: 1080,
      vui: { sar: [1, 1], timing: { numUnitsInTick: 1001, timeScale: 60000 } },
      ...o,
    }) as H264SpsFields;
  const cases: [string, H264SpsFields | null, object][] = [
    [
      "High@4.0 1080p29.97",
      sps(),
      {
        profile: "High",
        level: 40,
        chromaFormat: "4:2:0",
        frameRate: [30000, 1001],
        displayAspectRatio: [16, 9],
        fieldOrder: "progressive",
      },
    ],
    [
      "Constrained Baseline",
      sps({ profileIdc: 66, constraintFlags: 0x40 }),
      { profile: "Constrained Baseline" },
    ],
    [
      "interlaced (field order per picture)",
      sps({ frameMbsOnly: false }),
      { progressive: false, fieldOrder: null },
    ],
    [
      "anamorphic 1440x1080 at 4:3 samples",
      sps({ width: 1440, vui: { sar: [4, 3], timing: null } }),
      { displayAspectRatio: [16, 9], frameRate: null },
    ],
    ["no VUI", sps({ vui: null }), { sampleAspectRatio: null, frameRate: null }],
    ["no SPS", null, { profile: null, level: null }],
  ];
  for (const [what, s, want] of cases)
    test(`h264VideoInfo() describes ${what}`, () => expect(h264VideoInfo(s)).toMatchObject(want));
});
