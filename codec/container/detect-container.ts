/** @module Tells ES, PS, TS, M2TS and MP4 apart by content, never by file name. */

import { CodecError } from "../codec-error.ts";
import type { ContainerKind } from "../recording-index.ts";
import { PACK_START_CODE, parsePackHeader } from "./pack-header.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH, TS_SYNC_BYTE } from "./ts-packet.ts";

/** Bytes looked at before deciding; a recording that is none of the containers is taken as ES. */
export const PROBE_BYTES = 64 * 1024;
/** Consecutive sync bytes that make a Transport Stream (fewer when the whole file is shorter). */
const TS_PROBE_PACKETS = 8;
const PACKET_LENGTHS = [TS_PACKET_LENGTH, M2TS_PACKET_LENGTH] as const;
/** 00 00 01 BA: a pack_start_code (ISO/IEC 13818-1 2.5.3.3). */
const PACK_PREFIX = Buffer.from([0, 0, 1, PACK_START_CODE]);
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
  // Every 0x47 of the window is a candidate (~250 in 64 KiB of video): no allocation per candidate.
  for (let i = window.indexOf(TS_SYNC_BYTE); i >= 0; i = window.indexOf(TS_SYNC_BYTE, i + 1)) {
    for (let s = 0; s < PACKET_LENGTHS.length; s++) {
      const size = PACKET_LENGTHS[s] as number;
      const fit = Math.floor((window.length - 1 - i) / size) + 1;
      // Fewer than TS_PROBE_PACKETS only where the whole window holds fewer (a short file): in a full window a
      // candidate near its end would pass on 2 sync bytes by chance, 1 in 256 (0.65% of random 64 KiB buffers
      // were taken for TS that way).
      if (window.length >= TS_PROBE_PACKETS * size && fit < TS_PROBE_PACKETS) continue;
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
  // One native search for the whole start code rather than a JavaScript check at every 01 byte (video has one
  // every ~44 bytes).
  const buf = Buffer.from(window.buffer, window.byteOffset, window.byteLength);
  for (let at = buf.indexOf(PACK_PREFIX); at >= 0; at = buf.indexOf(PACK_PREFIX, at + 1)) {
    try {
      parsePackHeader(window, at);
      return true;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  }
  return false;
}
