/** @module Streaming MPEG Transport Stream demuxer for 188-byte TS and 192-byte M2TS (ISO/IEC 13818-1 2.4). */

import { CodecError } from "../codec-error.ts";
import type { VideoFormat } from "../recording-index.ts";
import { ChunkedUnitParser } from "./chunked-unit-parser.ts";
import type { DemuxSink } from "./demux-sink.ts";
import { isVideoStreamId, parsePesHeader } from "./pes-header.ts";
import { PsiAssembler } from "./psi-assembler.ts";
import {
  parsePat,
  parsePmt,
  parsePsiSection,
  STREAM_TYPE_H264,
  STREAM_TYPE_HEVC,
  STREAM_TYPE_MPEG1_VIDEO,
  STREAM_TYPE_MPEG2_VIDEO,
  TABLE_ID_PAT,
  TABLE_ID_PMT,
} from "./psi-section.ts";
import {
  AFC_RESERVED,
  type M2TS_PACKET_LENGTH,
  PID_NULL,
  PID_PAT,
  parseAdaptationField,
  parseTsPacketHeader,
  TS_HEADER_LENGTH,
  TS_PACKET_LENGTH,
  TS_SYNC_BYTE,
} from "./ts-packet.ts";

/** Consecutive sync bytes a resync candidate needs (fewer only at the end of the data). */
const RESYNC_PACKETS = 3;
/** PES header: 9 fixed bytes plus at most 255 of PES_header_data_length, ISO/IEC 13818-1 2.4.3.6. */
const MAX_PES_HEADER = 9 + 255;
const CONTINUITY_MODULO = 16;
/** PIDs are 13 bits, ISO/IEC 13818-1 2.4.3.3. */
const PID_COUNT = 0x2000;
const NO_COUNTER = -1;

const VIDEO_STREAM_TYPES = new Map<number, VideoFormat>([
  [STREAM_TYPE_MPEG1_VIDEO, "mpeg1"],
  [STREAM_TYPE_MPEG2_VIDEO, "mpeg2"],
  [STREAM_TYPE_H264, "h264"],
  [STREAM_TYPE_HEVC, "hevc"],
]);

interface PendingPiece {
  bytes: Uint8Array;
  fileOffset: number;
  unitOffset: number;
}

/**
 * Demuxes the first video stream of the first program that has one: PAT -> PMT -> video PID, then PES
 * reassembly. Reports ERR_TS_SYNC (and resyncs on RESYNC_PACKETS consecutive sync bytes), ERR_TS_CONTINUITY,
 * ERR_TS_TRANSPORT_ERROR, ERR_TS_ADAPTATION_FIELD and PSI/PES header errors, each at a file offset.
 */
export class TsDemuxer extends ChunkedUnitParser {
  protected readonly maxUnitLength: number;
  private readonly syncOffset: number;
  private inSync = true;
  /** Last continuity_counter per PID (13-bit PIDs), NO_COUNTER before a PID's first packet. */
  private readonly lastCounter = new Int8Array(PID_COUNT).fill(NO_COUNTER);
  private readonly pmtPids = new Set<number>();
  private readonly assemblers = new Map<number, PsiAssembler>();
  private videoPid = -1;
  /** stream_type of the chosen video stream, -1 before the PMT names one. */
  videoStreamType = -1;
  /** PES state of the video PID: collecting its header, or passing payload through. */
  private pesState: "none" | "header" | "payload" = "none";
  private pending: PendingPiece[] = [];
  private pendingBytes = 0;
  private pendingStart = 0;

  constructor(
    private readonly sink: DemuxSink,
    readonly packetLength: typeof TS_PACKET_LENGTH | typeof M2TS_PACKET_LENGTH = TS_PACKET_LENGTH,
  ) {
    super();
    this.syncOffset = packetLength - TS_PACKET_LENGTH;
    this.maxUnitLength = packetLength * (RESYNC_PACKETS + 1);
  }

  get videoPidNumber(): number {
    return this.videoPid;
  }

  protected parseUnits(buf: Uint8Array, base: number, atEnd: boolean): number {
    const size = this.packetLength;
    const len = buf.length;
    let p = 0;
    for (;;) {
      if (!this.inSync) {
        const found = this.findSync(buf, p, atEnd);
        if (found < 0) return atEnd ? len : Math.max(p, len - size * RESYNC_PACKETS);
        if (!atEnd && len - found < size * RESYNC_PACKETS) return found;
        p = found;
        this.inSync = true;
      }
      if (len - p < size) {
        if (atEnd && p < len) {
          this.sink.error(
            base + p,
            "ERR_TS_TRUNCATED",
            `The last packet is cut off after ${len - p} of ${size} bytes`,
          );
          return len;
        }
        return p;
      }
      if (buf[p + this.syncOffset] !== TS_SYNC_BYTE) {
        this.sink.error(base + p, "ERR_TS_SYNC", `Lost Transport Stream sync: no 0x47 at packet start`);
        this.inSync = false;
        p += 1;
        continue;
      }
      this.packet(buf, p, base);
      p += size;
    }
  }

  /** Next position whose sync byte repeats every packet for RESYNC_PACKETS packets (or to the data's end). */
  private findSync(buf: Uint8Array, from: number, atEnd: boolean): number {
    const size = this.packetLength;
    for (
      let i = buf.indexOf(TS_SYNC_BYTE, from + this.syncOffset);
      i >= 0;
      i = buf.indexOf(TS_SYNC_BYTE, i + 1)
    ) {
      const start = i - this.syncOffset;
      let ok = true;
      let k = 1;
      for (; k < RESYNC_PACKETS; k++) {
        const at = i + k * size;
        if (at >= buf.length) {
          if (!atEnd) return start; // caller waits for more bytes before trusting it
          break;
        }
        if (buf[at] !== TS_SYNC_BYTE) {
          ok = false;
          break;
        }
      }
      if (ok) return start;
    }
    return -1;
  }

  private packet(buf: Uint8Array, p: number, base: number): void {
    const packetOffset = base + p;
    const at = p + this.syncOffset;
    const end = p + this.packetLength;
    // The header's fields read in place (ISO/IEC 13818-1 2.4.3.2): ~1.5 million packets per 280 MB, and a
    // header object per packet was a large share of the demux. parseTsPacketHeader words the one error.
    const b1 = buf[at + 1]!;
    const b3 = buf[at + 3]!;
    const pid = ((b1 & 0x1f) << 8) | buf[at + 2]!;
    const adaptationFieldControl = (b3 >> 4) & 0x03;
    if (adaptationFieldControl === AFC_RESERVED) {
      try {
        parseTsPacketHeader(buf, at);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        this.sink.error(packetOffset, e.code, e.message);
      }
      return;
    }
    if (pid === PID_NULL) return;
    if ((b1 & 0x80) !== 0) {
      this.sink.error(
        packetOffset,
        "ERR_TS_TRANSPORT_ERROR",
        `Dropped packet of PID ${pid}: transport_error_indicator is set`,
      );
      if (pid === this.videoPid) this.abortPes();
      return;
    }
    const hasPayload = (adaptationFieldControl & 0b01) !== 0;
    let payloadStart = at + TS_HEADER_LENGTH;
    let discontinuity = false;
    if ((adaptationFieldControl & 0b10) !== 0) {
      try {
        const af = parseAdaptationField(buf, payloadStart, adaptationFieldControl, end);
        discontinuity = af.discontinuity;
        payloadStart += 1 + af.length;
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        this.sink.error(packetOffset, e.code, e.message);
        this.continuityBroken(pid);
        return;
      }
    }
    if (!this.continuityOk(pid, b3 & 0x0f, hasPayload, discontinuity, packetOffset)) return;
    if (!hasPayload || payloadStart >= end) return;
    if (b3 >> 6 !== 0) {
      if (pid === this.videoPid) {
        this.sink.error(
          packetOffset,
          "ERR_TS_SCRAMBLED",
          "Cannot read video packet: transport_scrambling_control is set",
        );
        this.abortPes();
      }
      return;
    }
    const payloadOffset = base + payloadStart;
    const payloadUnitStart = (b1 & 0x40) !== 0;
    if (pid === this.videoPid) {
      this.videoPayload(buf, payloadStart, end, payloadUnitStart, payloadOffset, packetOffset);
    } else if (pid === PID_PAT || this.pmtPids.has(pid)) {
      this.assembler(pid).push(buf.subarray(payloadStart, end), payloadUnitStart, payloadOffset);
    }
  }

  /** Checks continuity_counter (ISO/IEC 13818-1 2.4.3.3); false for a duplicate packet, which is dropped. */
  private continuityOk(
    pid: number,
    counter: number,
    hasPayload: boolean,
    discontinuity: boolean,
    offset: number,
  ): boolean {
    const last = this.lastCounter[pid]!;
    this.lastCounter[pid] = counter;
    if (last === NO_COUNTER || discontinuity) return true;
    if (!hasPayload) {
      if (counter !== last) this.reportContinuity(pid, last, last, counter, offset);
      return true;
    }
    if (counter === last) return false; // a duplicate packet may be sent once; its payload repeats the last
    const expected = (last + 1) % CONTINUITY_MODULO;
    if (counter !== expected) this.reportContinuity(pid, last, expected, counter, offset);
    return true;
  }

  private reportContinuity(pid: number, _last: number, expected: number, got: number, offset: number): void {
    this.sink.error(
      offset,
      "ERR_TS_CONTINUITY",
      `Packets lost on PID ${pid}: continuity_counter ${got}, expected ${expected}`,
    );
    this.continuityBroken(pid);
  }

  private continuityBroken(pid: number): void {
    this.assemblers.get(pid)?.reset();
  }

  private assembler(pid: number): PsiAssembler {
    let a = this.assemblers.get(pid);
    if (!a) {
      a = new PsiAssembler(
        (section, offset) => this.section(pid, section, offset),
        (offset, code, message) => this.sink.error(offset, code, message),
      );
      this.assemblers.set(pid, a);
    }
    return a;
  }

  private section(pid: number, bytes: Uint8Array, fileOffset: number): void {
    try {
      const section = parsePsiSection(bytes, 0);
      if (!section.currentNext) return;
      if (pid === PID_PAT && section.tableId === TABLE_ID_PAT) {
        for (const program of parsePat(section))
          if (program.programNumber !== 0) this.pmtPids.add(program.pid);
      } else if (this.pmtPids.has(pid) && section.tableId === TABLE_ID_PMT) {
        if (this.videoPid >= 0) return;
        for (const s of parsePmt(section).streams) {
          const format = VIDEO_STREAM_TYPES.get(s.streamType);
          if (format === undefined) continue;
          this.videoPid = s.pid;
          this.videoStreamType = s.streamType;
          this.sink.format(format);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.sink.error(fileOffset + e.offset, e.code, e.message);
    }
  }

  private abortPes(): void {
    this.pesState = "none";
    this.pending = [];
    this.pendingBytes = 0;
  }

  private videoPayload(
    buf: Uint8Array,
    start: number,
    end: number,
    unitStart: boolean,
    fileOffset: number,
    unitOffset: number,
  ): void {
    if (unitStart) {
      if (this.pesState === "header") {
        this.sink.error(
          this.pendingStart,
          "ERR_PES_TRUNCATED",
          "Cannot parse PES header: the next PES began first",
        );
      }
      this.abortPes();
      this.pesState = "header";
      this.pendingStart = fileOffset;
    }
    if (this.pesState === "payload") {
      this.sink.video(buf, start, end, fileOffset, unitOffset, this.packetLength);
      return;
    }
    if (this.pesState !== "header") return; // payload of a PES whose start we never saw
    this.pending.push({ bytes: buf.slice(start, end), fileOffset, unitOffset });
    this.pendingBytes += end - start;
    const joined = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (const piece of this.pending) {
      joined.set(piece.bytes, o);
      o += piece.bytes.length;
    }
    let headerLength: number;
    try {
      const header = parsePesHeader(joined, 0);
      if (!isVideoStreamId(header.streamId)) {
        throw new CodecError(
          "ERR_PES_STREAM_ID",
          `Cannot use PES: stream_id 0x${header.streamId.toString(16)} on the video PID`,
          0,
        );
      }
      headerLength = header.headerLength;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      if (e.code === "ERR_PES_TRUNCATED" && this.pendingBytes < MAX_PES_HEADER) return;
      this.sink.error(this.pendingStart, e.code, e.message);
      this.abortPes();
      return;
    }
    // Hand on what follows the header in each collected piece, with that piece's own file position.
    let skip = headerLength;
    for (const piece of this.pending) {
      if (skip >= piece.bytes.length) {
        skip -= piece.bytes.length;
        continue;
      }
      this.sink.video(
        piece.bytes,
        skip,
        piece.bytes.length,
        piece.fileOffset + skip,
        piece.unitOffset,
        this.packetLength,
      );
      skip = 0;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.pesState = "payload";
  }
}
