/**
 * @module Builds MPEG-1/2 video headers and small synthetic elementary streams bit by bit, so tests can state
 * exactly which field is wrong; the slice payloads are filler, not decodable video.
 */

import {
  EXTENSION_START_CODE,
  GROUP_START_CODE,
  PICTURE_CODING_EXTENSION_ID,
  PICTURE_START_CODE,
  SEQUENCE_END_CODE,
  SEQUENCE_EXTENSION_ID,
  SEQUENCE_HEADER_CODE,
  USER_DATA_START_CODE,
} from "../../codec/mpeg-video/start-codes.ts";
import { BitWriter, buildHeader } from "./bit-writer.ts";

export interface SequenceHeaderFields {
  horizontalSize: number;
  verticalSize: number;
  aspectRatioCode: number;
  frameRateCode: number;
  bitRateValue: number;
  marker: number;
  vbvBufferSizeValue: number;
  constrainedParameters: boolean;
  intraMatrix: number[] | null;
  nonIntraMatrix: number[] | null;
}

export const DEFAULT_SEQUENCE: SequenceHeaderFields = {
  horizontalSize: 720,
  verticalSize: 576,
  aspectRatioCode: 2,
  frameRateCode: 3,
  bitRateValue: 15000,
  marker: 1,
  vbvBufferSizeValue: 112,
  constrainedParameters: false,
  intraMatrix: null,
  nonIntraMatrix: null,
};

export function sequenceHeader(f: Partial<SequenceHeaderFields> = {}): Uint8Array {
  const s = { ...DEFAULT_SEQUENCE, ...f };
  return buildHeader(SEQUENCE_HEADER_CODE, (w) => {
    w.write(s.horizontalSize, 12)
      .write(s.verticalSize, 12)
      .write(s.aspectRatioCode, 4)
      .write(s.frameRateCode, 4);
    w.write(s.bitRateValue, 18)
      .write(s.marker, 1)
      .write(s.vbvBufferSizeValue, 10)
      .flag(s.constrainedParameters);
    for (const m of [s.intraMatrix, s.nonIntraMatrix]) {
      w.flag(m !== null);
      for (const v of m ?? []) w.write(v, 8);
    }
  });
}

export interface SequenceExtensionFields {
  profileAndLevel: number;
  progressiveSequence: boolean;
  chromaFormat: number;
  horizontalSizeExtension: number;
  verticalSizeExtension: number;
  marker: number;
  lowDelay: boolean;
  id: number;
}

export function sequenceExtension(f: Partial<SequenceExtensionFields> = {}): Uint8Array {
  const s = {
    profileAndLevel: 0x48,
    progressiveSequence: false,
    chromaFormat: 1,
    horizontalSizeExtension: 0,
    verticalSizeExtension: 0,
    marker: 1,
    lowDelay: false,
    id: SEQUENCE_EXTENSION_ID,
    ...f,
  };
  return buildHeader(EXTENSION_START_CODE, (w) => {
    w.write(s.id, 4).write(s.profileAndLevel, 8).flag(s.progressiveSequence).write(s.chromaFormat, 2);
    w.write(s.horizontalSizeExtension, 2).write(s.verticalSizeExtension, 2).write(0, 12).write(s.marker, 1);
    w.write(0, 8).flag(s.lowDelay).write(0, 2).write(0, 5);
  });
}

export interface GopFields {
  dropFrame: boolean;
  hours: number;
  minutes: number;
  marker: number;
  seconds: number;
  pictures: number;
  closedGop: boolean;
  brokenLink: boolean;
}

export function gopHeader(f: Partial<GopFields> = {}): Uint8Array {
  const g = {
    dropFrame: false,
    hours: 0,
    minutes: 0,
    marker: 1,
    seconds: 0,
    pictures: 0,
    closedGop: true,
    brokenLink: false,
    ...f,
  };
  return buildHeader(GROUP_START_CODE, (w) => {
    w.flag(g.dropFrame).write(g.hours, 5).write(g.minutes, 6).write(g.marker, 1).write(g.seconds, 6);
    w.write(g.pictures, 6).flag(g.closedGop).flag(g.brokenLink);
  });
}

export interface PictureFields {
  temporalReference: number;
  codingType: number;
  vbvDelay: number;
  forwardFCode: number;
  backwardFCode: number;
  extraInformation: number[];
}

export function pictureHeader(f: Partial<PictureFields> = {}): Uint8Array {
  const p = {
    temporalReference: 0,
    codingType: 1,
    vbvDelay: 0xffff,
    forwardFCode: 7,
    backwardFCode: 7,
    extraInformation: [],
    ...f,
  };
  return buildHeader(PICTURE_START_CODE, (w) => {
    w.write(p.temporalReference, 10).write(p.codingType, 3).write(p.vbvDelay, 16);
    if (p.codingType === 2 || p.codingType === 3) w.write(0, 1).write(p.forwardFCode, 3);
    if (p.codingType === 3) w.write(0, 1).write(p.backwardFCode, 3);
    for (const b of p.extraInformation) w.write(1, 1).write(b, 8);
    w.write(0, 1);
  });
}

export interface PictureCodingExtensionFields {
  id: number;
  fCode: [number, number, number, number];
  intraDcPrecision: number;
  pictureStructure: number;
  topFieldFirst: boolean;
  framePredFrameDct: boolean;
  progressiveFrame: boolean;
  compositeDisplay: boolean;
}

export function pictureCodingExtension(f: Partial<PictureCodingExtensionFields> = {}): Uint8Array {
  const x = {
    id: PICTURE_CODING_EXTENSION_ID,
    fCode: [15, 15, 15, 15],
    intraDcPrecision: 0,
    pictureStructure: 3,
    topFieldFirst: true,
    framePredFrameDct: false,
    progressiveFrame: false,
    compositeDisplay: false,
    ...f,
  };
  return buildHeader(EXTENSION_START_CODE, (w) => {
    w.write(x.id, 4);
    for (const c of x.fCode) w.write(c, 4);
    w.write(x.intraDcPrecision, 2)
      .write(x.pictureStructure, 2)
      .flag(x.topFieldFirst)
      .flag(x.framePredFrameDct);
    w.write(0, 4).write(0, 1).write(0, 1).flag(x.progressiveFrame).flag(x.compositeDisplay);
    if (x.compositeDisplay) w.write(0, 20);
  });
}

export function userData(payload: number[]): Uint8Array {
  const w = new BitWriter().startCode(USER_DATA_START_CODE);
  for (const b of payload) w.write(b, 8);
  return w.bytes();
}

export const SEQUENCE_END = new Uint8Array([0, 0, 1, SEQUENCE_END_CODE]);

/** A slice: its start code, then `length` filler bytes that hold no 00 00 prefix. */
export function slice(verticalPosition: number, length = 24, fill = 0x5a): Uint8Array {
  const b = new Uint8Array(4 + length).fill(fill);
  b.set([0, 0, 1, verticalPosition]);
  return b;
}

export interface SyntheticPicture {
  type: "I" | "P" | "B" | "D";
  structure?: "frame" | "top" | "bottom";
  temporalReference?: number;
  slices?: number;
}

export interface SyntheticGop {
  closed?: boolean;
  brokenLink?: boolean;
  pictures: SyntheticPicture[];
}

const TYPE_CODES = { I: 1, P: 2, B: 3, D: 4 } as const;
const STRUCTURE_CODES = { top: 1, bottom: 2, frame: 3 } as const;

/**
 * A whole ES: sequence header (+ extension for MPEG-2) before each GOP, the pictures with their coding
 * extension (MPEG-2), user data on the first picture, `slices` filler slices each, and a sequence end.
 */
export function syntheticStream(gops: SyntheticGop[], mpeg: 1 | 2 = 2): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const g of gops) {
    parts.push(sequenceHeader({ horizontalSize: 352, verticalSize: 288 }));
    if (mpeg === 2) parts.push(sequenceExtension());
    parts.push(gopHeader({ closedGop: g.closed ?? true, brokenLink: g.brokenLink ?? false }));
    g.pictures.forEach((p, i) => {
      parts.push(
        pictureHeader({ codingType: TYPE_CODES[p.type], temporalReference: p.temporalReference ?? i }),
      );
      if (mpeg === 2) {
        parts.push(pictureCodingExtension({ pictureStructure: STRUCTURE_CODES[p.structure ?? "frame"] }));
      }
      if (i === 0) parts.push(userData([0x47, 0x41, 0x39, 0x34]));
      for (let s = 1; s <= (p.slices ?? 3); s++) parts.push(slice(s));
    });
  }
  parts.push(SEQUENCE_END);
  return Buffer.concat(parts);
}
