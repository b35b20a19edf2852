/** @module Streaming index of an H.264 Annex B byte stream (video in a Transport Stream): access units as pictures. */

import { CappedErrors } from "../capped-errors.ts";
import { CodecError } from "../codec-error.ts";
import type {
  GopRecord,
  IndexError,
  PictureCounts,
  PictureRecord,
  PictureStructure,
  PictureType,
} from "../recording-index.ts";
import { type H264Pps, NAL_PPS, parseH264Pps } from "./h264-pps.ts";
import { type H264ParameterSets, h264SliceDataOffset } from "./h264-slice-header.ts";
import {
  isVclSliceNal,
  NAL_ACCESS_UNIT_DELIMITER,
  NAL_SLICE_DATA_PARTITION_A,
  NAL_SPS,
  parseSliceHeaderStart,
} from "./h264-slice-type.ts";
import { type H264Sps, parseH264Sps } from "./h264-sps.ts";
import { ParameterSetMemo } from "./parameter-set-memo.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** Bytes kept from the start of each NAL unit: enough for an SPS with scaling lists, or a slice header. */
const NAL_HEAD_BYTES = 512;
/** NAL types that, after a VCL NAL, begin a new access unit: SEI 6, SPS 7, PPS 8, AUD 9, 14-18, ITU-T H.264 7.4.1.2.3. */
const AU_OPENING_NALS = new Set([6, 7, 8, NAL_ACCESS_UNIT_DELIMITER, 14, 15, 16, 17, 18]);

interface OpenAccessUnit {
  offset: number;
  hasVcl: boolean;
  type: PictureType;
  idr: boolean;
  structure: PictureStructure;
  poc: number;
}

/**
 * Sees every coded slice NAL unit (types 1 and 5) as the indexer ends it: the ES offsets of its start code, of
 * the first byte after its slice header (-1 when the header could not be read: unknown parameter sets, damage,
 * or longer than the bytes kept) and of its end (the next start code). The pattern planner for H.264 rides here.
 */
export type H264SliceObserver = (nalStart: number, dataStart: number, nalEnd: number) => void;

/**
 * Indexes H.264 access units of an Annex B stream fed in chunks of any size. A picture is one access unit:
 * from its first NAL (AUD, SEI, parameter sets or first slice, start code included) to the next access
 * unit; its type is that of its first slice (as ffmpeg reports it). I-pictures open a GOP record (closed
 * when IDR). Never throws on bad data.
 */
export class H264EsIndexer {
  readonly pictures: PictureRecord[] = [];
  readonly gops: GopRecord[] = [];
  readonly #errors = new CappedErrors();
  readonly counts: PictureCounts = { seq: 0, gop: 0, pic: 0, I: 0, P: 0, B: 0, D: 0 };
  readonly format = "h264" as const;
  width = 0;
  height = 0;
  #pos = 0;
  /** The last two bytes before the current chunk, for start codes split across chunks. */
  #prev1 = -1;
  #prev2 = -1;
  #prev3 = -1;
  #nalStart = -1;
  /** ES offset of the open NAL's header byte (after its start code). */
  #nalPayload = -1;
  readonly #nalHead = new Uint8Array(NAL_HEAD_BYTES);
  #nalFill = 0;
  #au: OpenAccessUnit | null = null;
  #sps: H264Sps | undefined;
  /** The first valid SPS: what inspect reports of the stream. */
  firstSps: H264Sps | null = null;
  #settled = 0;
  #ended = false;
  readonly #onSlice: H264SliceObserver | undefined;
  readonly #spsById = new Map<number, H264Sps>();
  readonly #ppsById = new Map<number, H264Pps>();
  readonly #spsMemo = new ParameterSetMemo<H264Sps>();
  readonly #ppsMemo = new ParameterSetMemo<H264Pps>();
  readonly #sets: H264ParameterSets = {
    sps: (id) => this.#spsById.get(id),
    pps: (id) => this.#ppsById.get(id),
  };

  constructor(options: { onSlice?: H264SliceObserver } = {}) {
    this.#onSlice = options.onSlice;
  }

  /** Problems found, with ES offsets (at most MAX_INDEX_ERRORS and one summary). */
  get errors(): readonly IndexError[] {
    return this.#errors.list;
  }

  get bytesSeen(): number {
    return this.#pos;
  }

  /** ES offset below which nothing will change: no future picture starts before it. */
  get settledOffset(): number {
    let s = this.#ended ? this.#pos : Math.max(0, this.#pos - 3);
    if (!this.#ended) {
      if (this.#au) s = Math.min(s, this.#au.offset);
      else if (this.#nalStart >= 0) s = Math.min(s, this.#nalStart);
    }
    if (s > this.#settled) this.#settled = s;
    return this.#settled;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.length === 0) return;
    const base = this.#pos;
    let collectFrom = 0;
    // Start codes straddling the previous chunk: 00 | 00 01, or 00 00 | 01.
    if (chunk[0] === 1 && this.#prev1 === 0 && this.#prev2 === 0) {
      this.#collect(chunk, 0, 0);
      this.#startNal(base - 2 - (this.#prev3 === 0 ? 1 : 0), base + 1);
      collectFrom = 1;
    } else if (chunk.length > 1 && chunk[0] === 0 && chunk[1] === 1 && this.#prev1 === 0) {
      this.#collect(chunk, 0, 0);
      this.#startNal(base - 1 - (this.#prev2 === 0 ? 1 : 0), base + 2);
      collectFrom = 2;
    }
    for (let i = chunk.indexOf(1, collectFrom + 2); i >= 0; i = chunk.indexOf(1, i + 1)) {
      if (chunk[i - 1] !== 0 || chunk[i - 2] !== 0) continue;
      // A zero_byte before 00 00 01 (4-byte start code) belongs to the start code; it may be in the last chunk.
      const zeroByte = i >= 3 ? chunk[i - 3] === 0 : this.#prev1 === 0;
      const codeStart = i - 2 - (zeroByte ? 1 : 0);
      this.#collect(chunk, collectFrom, Math.max(collectFrom, codeStart));
      this.#startNal(base + codeStart, base + i + 1);
      collectFrom = i + 1;
    }
    this.#collect(chunk, collectFrom, chunk.length);
    const n = chunk.length;
    this.#prev3 = n >= 3 ? chunk[n - 3]! : n === 2 ? this.#prev1 : this.#prev2;
    this.#prev2 = n >= 2 ? chunk[n - 2]! : this.#prev1;
    this.#prev1 = chunk[n - 1]!;
    this.#pos += n;
  }

  end(): void {
    if (this.#ended) return;
    this.#endNal(this.#pos);
    this.#closeAu(this.#pos);
    this.#ended = true;
    this.#errors.close(this.#pos, "ERR_H264_TOO_MANY_ERRORS", "errors");
  }

  #collect(chunk: Uint8Array, from: number, to: number): void {
    if (this.#nalStart < 0 || to <= from) return;
    const take = Math.min(to - from, NAL_HEAD_BYTES - this.#nalFill);
    if (take <= 0) return;
    this.#nalHead.set(chunk.subarray(from, from + take), this.#nalFill);
    this.#nalFill += take;
  }

  #startNal(codeOffset: number, payloadOffset: number): void {
    this.#endNal(codeOffset);
    this.#nalStart = codeOffset;
    this.#nalPayload = payloadOffset;
    this.#nalFill = 0;
  }

  /** Classifies the NAL just ended; the one before the next start code may hold trailing zero bytes. */
  #endNal(end: number): void {
    if (this.#nalStart < 0 || this.#nalFill === 0) return;
    const start = this.#nalStart;
    const head = this.#nalHead.subarray(0, this.#nalFill);
    this.#nalStart = -1;
    const header = head[0]!;
    if (header & 0x80) {
      this.#error(start, "ERR_H264_NAL", "Skipped NAL unit: forbidden_zero_bit is set");
      return;
    }
    const type = header & 0x1f;
    if (type === NAL_SPS) {
      try {
        this.#sps = this.#spsMemo.get(head, undefined, () => parseH264Sps(head, 0));
        this.#spsById.set(this.#sps.spsId, this.#sps);
        this.firstSps ??= this.#sps;
        this.width = this.#sps.width;
        this.height = this.#sps.height;
        this.counts.seq++;
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        this.#error(start, e.code, e.message);
      }
    }
    if (type === NAL_PPS && this.#onSlice) {
      try {
        const ppsId = peekPpsIds(head);
        const sps = this.#spsById.get(ppsId);
        const pps = this.#ppsMemo.get(head, sps, () =>
          parseH264Pps(head, 0, head.length, sps?.picSizeInMapUnits),
        );
        this.#ppsById.set(pps.ppsId, pps);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        this.#error(start, e.code, e.message);
      }
    }
    if (isVclSliceNal(type)) {
      if (this.#onSlice && type !== NAL_SLICE_DATA_PARTITION_A) this.#slice(head, start, end);
      const slice = parseSliceHeaderStart(head, 0, head.length, this.#sps);
      if (!slice) {
        this.#error(start, "ERR_H264_SLICE", "Cannot read the slice header: it is cut off or invalid");
        return;
      }
      const au = this.#au;
      if (au?.hasVcl && slice.firstMbInSlice === 0) this.#closeAu(start);
      const open = this.#au ?? this.#openAu(start);
      if (!open.hasVcl) {
        open.hasVcl = true;
        open.type = slice.type;
        open.idr = slice.idr;
        open.structure = slice.structure;
        open.poc = slice.pocLsb;
      }
      return;
    }
    if (this.#au?.hasVcl && AU_OPENING_NALS.has(type)) this.#closeAu(start);
    if (!this.#au) this.#openAu(start);
  }

  /**
   * Tells the observer where the slice just ended, NAL unit [start, end), has its data; -1 when its header could
   * not be read. Positional: it runs per slice, and an object per call was fresh heap in pass 1.
   */
  #slice(head: Uint8Array, start: number, end: number): void {
    let dataStart = -1;
    try {
      // A header running past the bytes kept throws (cut off): it is never guessed.
      dataStart = this.#nalPayload + h264SliceDataOffset(head, 0, head.length, this.#sets);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
    this.#onSlice?.(start, Math.min(dataStart, end), end);
  }

  #openAu(offset: number): OpenAccessUnit {
    this.#au = { offset, hasVcl: false, type: "P", idr: false, structure: "frame", poc: -1 };
    return this.#au;
  }

  #closeAu(end: number): void {
    const au = this.#au;
    this.#au = null;
    if (!au?.hasVcl) return;
    if (au.type === "I") {
      this.gops.push({ offset: au.offset, closed: au.idr, brokenLink: false });
      this.counts.gop++;
    }
    this.pictures.push({
      serial: this.pictures.length,
      type: au.type,
      structure: au.structure,
      offset: au.offset,
      length: end - au.offset,
      gop: this.gops.length - 1,
      temporalReference: au.poc,
    });
    this.counts.pic++;
    this.counts[au.type]++;
  }

  #error(offset: number, code: string, message: string): void {
    this.#errors.add(offset, code, message);
  }
}

/** seq_parameter_set_id of a PPS NAL (its second ue(v)), so the PPS can be read against its SPS; -1 if unreadable. */
function peekPpsIds(head: Uint8Array): number {
  const r = new RbspBits(head, 1, head.length);
  r.readUe();
  return r.readUe();
}
