/** @module Tells ES, PS, TS, M2TS and MP4 apart by content, never by file name. */

import { CodecError } from "../codec-error.ts";
import type { ContainerKind } from "../recording-index.ts";
import { PACK_START_CODE, parsePackHeader } from "./pack-header.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH, TS_SYNC_BYTE } from "./ts-packet.ts";

/** Bytes looked at before deciding; a recording that is none of the containers is taken as ES. */
export const PROBE_BYTES = 64 * 1024;
/** Consecutive sync bytes that make a Transport Stream (fewer when the whole file is shorter). */
const TS_PROBE_PACKETS = 8;
const MIN_TS_PACKETS = 2;
/** Top-level box types a file may open with, ISO/IEC 14496-12 (ftyp first by rule; the others in damaged or old files). */
const MP4_OPENING_BOXES = new Set([
  "ftyp",
  "moov",
  "mdat",
  "free",
  "skip",
  "wide",
  "pdin",
  "styp",
  "sidx",
  "moof",
  "uuid",
]);

/**
 * The container of `bytes` (the start of a file), or undefined while more bytes could change the answer.
 * With `final` (no more bytes will come) or PROBE_BYTES seen, it always answers.
 */
export function detectContainer(bytes: Uint8Array, final: boolean): ContainerKind | undefined {
  if (looksLikeMp4(bytes)) return "mp4";
  const decisive = final || bytes.length >= PROBE_BYTES;
  const window = bytes.length > PROBE_BYTES ? bytes.subarray(0, PROBE_BYTES) : bytes;
  const ts = tsPacketLength(window, decisive);
  if (ts === M2TS_PACKET_LENGTH) return "m2ts";
  if (ts === TS_PACKET_LENGTH) return "ts";
  if (hasPackHeader(window)) return "ps";
  if (!decisive) return undefined;
  return "es";
}

function looksLikeMp4(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  const type = String.fromCharCode(b[4]!, b[5]!, b[6]!, b[7]!);
  if (!MP4_OPENING_BOXES.has(type)) return false;
  const size = ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  return size === 0 || size === 1 || size >= 8;
}

/**
 * 188 or 192 when sync bytes repeat at that period for TS_PROBE_PACKETS packets from some start in the
 * window (or as many as fit, at least MIN_TS_PACKETS, once `decisive`); 0 otherwise.
 */
export function tsPacketLength(window: Uint8Array, decisive: boolean): number {
  for (let i = window.indexOf(TS_SYNC_BYTE); i >= 0; i = window.indexOf(TS_SYNC_BYTE, i + 1)) {
    for (const size of [TS_PACKET_LENGTH, M2TS_PACKET_LENGTH]) {
      const fit = Math.floor((window.length - 1 - i) / size) + 1;
      const want = Math.min(TS_PROBE_PACKETS, fit);
      if (want < (decisive ? MIN_TS_PACKETS : TS_PROBE_PACKETS)) continue;
      let k = 1;
      while (k < want && window[i + k * size] === TS_SYNC_BYTE) k++;
      if (k === want) return size;
    }
  }
  return 0;
}

function hasPackHeader(window: Uint8Array): boolean {
  for (let i = window.indexOf(1, 2); i >= 0; i = window.indexOf(1, i + 1)) {
    if (window[i - 1] !== 0 || window[i - 2] !== 0 || window[i + 1] !== PACK_START_CODE) continue;
    try {
      parsePackHeader(window, i - 2);
      return true;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  }
  return false;
}
