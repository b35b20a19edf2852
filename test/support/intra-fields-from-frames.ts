/**
 * @module Turns an all-intra stream of half-height frame pictures into an interlaced field-picture stream.
 *
 * ffmpeg's mpeg2video encoder only writes frame pictures (picture_structure 3), so testdata/make-es.sh makes
 * field-picture fixtures this way: ffmpeg encodes each field of an interlaced source (separatefields) as an
 * intra frame picture, and this rewrite relabels them as alternating top/bottom field pictures. For intra
 * macroblocks the slice syntax of a field picture equals that of a frame picture with frame_pred_frame_dct=1
 * (no dct_type, no motion type: ISO/IEC 13818-2 6.2.5.1), and a field of height H/2 has the same number of
 * macroblock rows as a frame of H/2 (6.3.3: mb_height = 2*ceil(H/32) for interlaced sequences), so only
 * header bits change. make-es.sh checks that ffmpeg decodes the result to the same pixels as weaving the
 * fields it encoded.
 */
import { parseGopHeader } from "../../codec/mpeg-video/gop-header.ts";
import { parsePictureCodingExtension } from "../../codec/mpeg-video/picture-coding-extension.ts";
import { PICTURE_CODING_TYPE_I, parsePictureHeader } from "../../codec/mpeg-video/picture-header.ts";
import { StartCodeScanner } from "../../codec/mpeg-video/start-code-scanner.ts";
import {
  EXTENSION_START_CODE,
  GROUP_START_CODE,
  PICTURE_CODING_EXTENSION_ID,
  PICTURE_START_CODE,
  SEQUENCE_END_CODE,
  SEQUENCE_EXTENSION_ID,
  SEQUENCE_HEADER_CODE,
} from "../../codec/mpeg-video/start-codes.ts";

/** Field rate code -> frame rate code (ISO/IEC 13818-2 Table 6-4): 50 -> 25, 59.94 -> 29.97, 60 -> 30. */
const HALF_RATE: Record<number, number> = { 6: 3, 7: 4, 8: 5 };
const FRAMES_PER_SECOND: Record<number, number> = { 3: 25, 4: 30, 5: 30 };

interface Unit {
  code: number;
  offset: number;
  end: number;
}

/**
 * Rewrites `input` (sequence header + extension + GOP before every picture, all I, even picture count) into
 * field pictures, keeping one sequence header and GOP every `framesPerGop` frames. Throws TypeError when the
 * input is not of that shape.
 */
export function intraFieldsFromFrames(input: Uint8Array, framesPerGop: number): Uint8Array {
  const units: Unit[] = [];
  new StartCodeScanner((code, offset) => {
    const last = units.at(-1);
    if (last) last.end = offset;
    units.push({ code, offset, end: input.length });
  }).push(input);
  const out: Uint8Array[] = [];
  let field = -1;
  let keepHeaders = true;
  let fps = 25;
  for (const u of units) {
    const bytes = input.slice(u.offset, u.end);
    const id = (bytes[4] ?? 0) >> 4;
    if (u.code === SEQUENCE_HEADER_CODE) {
      // A new sequence header announces the next picture: decide now whether this field opens a GOP.
      keepHeaders = (field + 1) % (2 * framesPerGop) === 0;
      if (!keepHeaders) continue;
      const vertical = getBits(bytes, 44, 12);
      setBits(bytes, 44, 12, vertical * 2);
      const rate = HALF_RATE[getBits(bytes, 60, 4)];
      if (rate === undefined)
        throw new TypeError("Cannot make fields: the input frame rate is not 50 or 60 Hz");
      setBits(bytes, 60, 4, rate);
      fps = FRAMES_PER_SECOND[rate] ?? fps;
    } else if (u.code === EXTENSION_START_CODE && id === SEQUENCE_EXTENSION_ID) {
      if (!keepHeaders) continue;
      setBits(bytes, 44, 1, 0); // progressive_sequence = 0
    } else if (u.code === GROUP_START_CODE) {
      if (!keepHeaders) continue;
      parseGopHeader(bytes, 0);
      const frame = (field + 1) / 2;
      setBits(bytes, 32, 1, 0); // drop_frame_flag
      setBits(bytes, 33, 5, Math.floor(frame / fps / 3600) % 24);
      setBits(bytes, 38, 6, Math.floor(frame / fps / 60) % 60);
      setBits(bytes, 45, 6, Math.floor(frame / fps) % 60);
      setBits(bytes, 51, 6, frame % fps);
      setBits(bytes, 57, 1, 1); // closed_gop: every picture is intra
      setBits(bytes, 58, 1, 0); // broken_link
    } else if (u.code === PICTURE_START_CODE) {
      field++;
      if (parsePictureHeader(bytes, 0).codingType !== PICTURE_CODING_TYPE_I) {
        throw new TypeError(`Cannot make fields: picture ${field} is not intra`);
      }
      setBits(bytes, 32, 10, Math.floor((field % (2 * framesPerGop)) / 2)); // temporal_reference per frame
    } else if (u.code === EXTENSION_START_CODE && id === PICTURE_CODING_EXTENSION_ID) {
      if (!parsePictureCodingExtension(bytes, 0).framePredFrameDct) {
        throw new TypeError("Cannot make fields: the input must use frame_pred_frame_dct = 1");
      }
      setBits(bytes, 54, 2, field % 2 === 0 ? 1 : 2); // picture_structure: top, then bottom
      setBits(bytes, 56, 1, 0); // top_field_first is 0 in field pictures (6.3.10)
      setBits(bytes, 57, 1, 0); // frame_pred_frame_dct is 0 in field pictures (6.3.10)
      setBits(bytes, 62, 1, 0); // repeat_first_field
      setBits(bytes, 63, 1, 0); // chroma_420_type equals progressive_frame
      setBits(bytes, 64, 1, 0); // progressive_frame
    } else if (u.code === SEQUENCE_END_CODE && (field + 1) % 2 !== 0) {
      throw new TypeError("Cannot make fields: the input has an odd number of pictures");
    }
    out.push(bytes);
  }
  return Buffer.concat(out);
}

function getBits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 2 + (((b[(at + i) >> 3] ?? 0) >> (7 - ((at + i) & 7))) & 1);
  return v;
}

function setBits(b: Uint8Array, at: number, n: number, value: number): void {
  for (let i = 0; i < n; i++) {
    const p = at + i;
    const bit = Math.floor(value / 2 ** (n - 1 - i)) & 1;
    const mask = 1 << (7 - (p & 7));
    b[p >> 3] = bit ? (b[p >> 3] as number) | mask : (b[p >> 3] as number) & ~mask;
  }
}
