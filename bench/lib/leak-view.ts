/** @module The eavesdropper's view of a split recording: what one can decode from the direct channel's bytes alone. */
import { $ } from "bun";
import { PICTURE_START_CODE, SEQUENCE_END_CODE } from "../../codec/mpeg-video/start-codes.ts";
import { blockRule } from "../../codec/pattern/pattern-scheme.ts";
import type { PictureRecord } from "../../codec/recording-index.ts";
import { decodeSplitHeader, peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { readPatternWire } from "./pattern-wire.ts";

/** picture_start_code's 4 bytes, ISO/IEC 13818-2 6.2.3. */
const PICTURE_PREFIX = [0, 0, 1, PICTURE_START_CODE];
/** temporal_reference is the first 10 bits after picture_start_code (ISO/IEC 13818-2 6.2.3). */
const TEMPORAL_REFERENCE_BITS = 10;

function find(bytes: Uint8Array, pattern: readonly number[], from = 0): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(Buffer.from(pattern), from);
}

/**
 * One flat-grey MPEG-2 I-picture (picture header, coding extension, slices) at the recording's size, encoded
 * once by ffmpeg with the encoder defaults the test recordings use, so it fits their sequence headers.
 */
export async function greyIPicture(width: number, height: number, mpeg1: boolean): Promise<Uint8Array> {
  const codec = mpeg1 ? "mpeg1video" : "mpeg2video";
  const es =
    await $`ffmpeg -v error -f lavfi -i color=c=0x808080:size=${width}x${height}:rate=25 -frames:v 1 -c:v ${codec} -q:v 2 -f ${codec} -`
      .quiet()
      .arrayBuffer();
  const bytes = new Uint8Array(es);
  const start = find(bytes, PICTURE_PREFIX);
  const end = find(bytes, [0, 0, 1, SEQUENCE_END_CODE], start);
  if (start < 0) throw new Error("leak: ffmpeg's grey picture has no picture start code");
  return bytes.slice(start, end < 0 ? bytes.length : end);
}

/**
 * The grey picture made exactly `length` bytes: zero bytes appended, which the syntax allows before the next
 * start code (ISO/IEC 13818-2 6.2.1 next_start_code(): any number of zero_byte), and the original's
 * temporal_reference written in (an attacker sees where the I-pictures sat, so giving it is fair and keeps
 * display order). Undefined when the grey picture does not fit.
 */
export function padGrey(grey: Uint8Array, length: number, temporalReference: number): Uint8Array | undefined {
  if (grey.length > length) return undefined;
  const out = new Uint8Array(length);
  out.set(grey, 0);
  const keep = out[5]! & ((1 << (16 - TEMPORAL_REFERENCE_BITS)) - 1);
  out[4] = temporalReference >> 2;
  out[5] = ((temporalReference & 3) << 6) | keep;
  return out;
}

/** What leakView did: how many protected ranges got a grey picture, how many were too short for one. */
export interface LeakViewResult {
  view: Uint8Array;
  greyed: number;
  zeroed: number;
  /** Pattern-mode wire bytes carried a pattern header. */
  patterned: boolean;
  /**
   * One flag per view byte, 1 where the byte is ciphertext: what the attacker reads from the clear pattern
   * header's range table (the scheme is public, only the key is secret).
   */
  encrypted: Uint8Array;
}

/**
 * Rebuilds an elementary stream from the direct part exactly as it crossed the wire (split header, optional
 * pattern header, body): body bytes go where the split table puts direct bytes, and every protected range
 * (an I-picture of an ES) gets the grey I-picture padded to its length. A range too short for the grey
 * picture is zero-filled (a decoder skips zeros) and counted.
 */
export function leakView(
  wire: Uint8Array,
  pictures: readonly PictureRecord[],
  grey: Uint8Array,
): LeakViewResult {
  const splitLength = peekSplitHeaderLength(wire);
  if (splitLength === undefined) throw new Error("leak: the direct part is shorter than its split header");
  const split = decodeSplitHeader(wire.subarray(0, splitLength));
  if (split.container !== "es")
    throw new Error(`leak: views are built for ES recordings, not ${split.container}`);
  const afterSplit = wire.subarray(splitLength);
  const patterned = afterSplit[0] === 0x50; /* "P" of PVRPATRN */
  const pattern = patterned ? readPatternWire(afterSplit) : undefined;
  const body = pattern?.body ?? afterSplit;
  const bodyMask = new Uint8Array(body.length);
  // slice-block's table lists spans; its rule says which bytes in each are ciphertext (public, like the table).
  const rule = pattern === undefined ? undefined : blockRule(pattern.scheme);
  pattern?.forEachRange((offset, length) => {
    if (rule === undefined) bodyMask.fill(1, offset, offset + length);
    else
      for (let r = 0; r < length; r += rule.period)
        bodyMask.fill(1, offset + r, offset + Math.min(length, r + rule.crypt));
  });
  const encrypted = new Uint8Array(split.originalLength);
  const view = new Uint8Array(split.originalLength);
  const byOffset = new Map(pictures.map((p) => [p.offset, p]));
  let pos = 0;
  let b = 0;
  let greyed = 0;
  let zeroed = 0;
  for (const r of split.ranges) {
    view.set(body.subarray(b, b + (r.offset - pos)), pos);
    encrypted.set(bodyMask.subarray(b, b + (r.offset - pos)), pos);
    b += r.offset - pos;
    const padded = padGrey(grey, r.length, byOffset.get(r.offset)?.temporalReference ?? 0);
    if (padded) {
      view.set(padded, r.offset);
      greyed++;
    } else {
      zeroed++;
    }
    pos = r.offset + r.length;
  }
  view.set(body.subarray(b), pos);
  encrypted.set(bodyMask.subarray(b), pos);
  return { view, greyed, zeroed, patterned, encrypted };
}
