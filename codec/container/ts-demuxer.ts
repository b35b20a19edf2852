/** @module Streaming MPEG Transport Stream demuxer for 188-byte TS and 192-byte M2TS (ISO/IEC 13818-1 2.4). */

import { CodecError } from "../codec-error.ts";
import { PID_COUNT, VIDEO_BLOCK_BYTES } from "../kernel-memory.ts";
import { ChunkedUnitParser } from "./chunked-unit-parser.ts";
import type { DemuxSink } from "./demux-sink.ts";
import { blockTimestamps } from "./ts-block-timestamps.ts";
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
import {
  initialPidState,
  KIND_CALLER,
  KIND_OTHER,
  KIND_VIDEO,
  TS_WALK_WINDOW_BYTES,
  type TsPacketKernel,
  tsPacketKernel,
} from "./ts-packet-kernel.ts";
import { TsProgramTables } from "./ts-program-tables.ts";
import { TsTableSlots } from "./ts-table-slots.ts";
import { TsVideoPes } from "./ts-video-pes.ts";
import { RUN_FIELDS, VideoBlock } from "./video-block.ts";

/** Consecutive sync bytes a resync candidate needs (fewer only at the end of the data). */
const RESYNC_PACKETS = 3;
const CONTINUITY_MODULO = 16;
const NO_COUNTER = -1;
/** Fewer packets than this in a buffer (a packet carried across chunks) are demuxed without the kernel. */
const KERNEL_MIN_PACKETS = 4;

export interface TsDemuxerOptions {
  /**
   * Whether packets are walked by the WebAssembly kernel (ts-packet-walk.wat) where the runtime has it: "auto"
   * (the default) or "off". The sink sees the same calls either way (the tests run every case both ways).
   */
  kernel?: "auto" | "off";
}

/**
 * Demuxes the first video stream of the first program that has one: PAT -> PMT -> video PID, then PES
 * reassembly. Reports ERR_TS_SYNC (and resyncs on RESYNC_PACKETS consecutive sync bytes), ERR_TS_CONTINUITY,
 * ERR_TS_TRANSPORT_ERROR, ERR_TS_ADAPTATION_FIELD and PSI/PES header errors, each at a file offset.
 *
 * Video reaches the sink at the end of each push (or when VIDEO_BLOCK_BYTES have gathered), as one block
 * where the sink takes blocks (DemuxSink.videoBlock), else piece by piece. Where the runtime has it, the
 * WebAssembly kernel walks the packets that need no decision; the rest, and every packet without it, are
 * read here.
 */
export class TsDemuxer extends ChunkedUnitParser {
  protected readonly maxUnitLength: number;
  readonly #syncOffset: number;
  #inSync = true;
  /** The PID state between pushes, in the kernel's layout (TsPacketKernel.pidState). */
  readonly #ownState = initialPidState();
  /**
   * Last continuity_counter per PID, NO_COUNTER before a PID's first packet, and the kernel's kind of each
   * PID: views of #ownState, or of the kernel's copy during a push it walks.
   */
  #counters!: Int8Array;
  #kinds!: Uint8Array;
  /** The table slots (TABLE_SLOTS packets), in the same state. */
  readonly #tableSlots = new TsTableSlots();
  readonly #useKernel: boolean;
  /** Where video gathers during a push until it is handed on: the kernel's block while it walks, else #ownBlock(). */
  #block!: VideoBlock;
  #jsBlock: VideoBlock | undefined;
  readonly #tables: TsProgramTables;
  readonly #pes: TsVideoPes;
  /** The chunk being parsed and its file offset, where the block's packets still are. */
  #chunk: Uint8Array = new Uint8Array(0);
  #chunkBase = 0;

  readonly #sink: DemuxSink;

  constructor(
    sink: DemuxSink,
    readonly packetLength: typeof TS_PACKET_LENGTH | typeof M2TS_PACKET_LENGTH = TS_PACKET_LENGTH,
    options: TsDemuxerOptions = {},
  ) {
    super();
    this.#sink = sink;
    this.#syncOffset = packetLength - TS_PACKET_LENGTH;
    this.maxUnitLength = packetLength * (RESYNC_PACKETS + 1);
    this.#useKernel = options.kernel !== "off";
    this.#useState(this.#ownState);
    this.#kinds[PID_PAT] = KIND_CALLER;
    this.#tables = new TsProgramTables({
      pmtPid: (pid) => this.#setKind(pid),
      video: (pid, format) => {
        this.#setKind(pid);
        this.#sink.format(format);
      },
      error: (offset, code, message) => this.#sink.error(offset, code, message),
    });
    this.#pes = new TsVideoPes({
      video: (bytes, start, end, fileOffset, unitOffset) =>
        this.#video(bytes, start, end, fileOffset, unitOffset),
      error: (offset, code, message) => this.#sink.error(offset, code, message),
      timestamps: (pts, dts) => this.#sink.timestamps?.(pts, dts, this.#block.length),
      state: () => this.#setKind(this.#tables.videoPid),
    });
  }

  /** The elementary streams the PMT listed (PID and stream_type), in PMT order. */
  get streams(): readonly { pid: number; streamType: number }[] {
    return this.#tables.streams;
  }

  protected parseUnits(buf: Uint8Array, base: number, atEnd: boolean): number {
    this.#chunk = buf;
    this.#chunkBase = base;
    const kernel =
      this.#useKernel && buf.length >= KERNEL_MIN_PACKETS * this.packetLength ? tsPacketKernel() : null;
    const walker = kernel !== null && !kernel.busy ? kernel : null;
    if (walker !== null) {
      // The kernel is this demuxer's for the push: it walks with this demuxer's PID state, and the packets
      // left to JavaScript read and write the same copy.
      walker.busy = true;
      walker.pidState.set(this.#ownState);
      this.#useState(walker.pidState);
    }
    const block = walker?.block ?? this.#ownBlock();
    this.#block = block;
    try {
      const consumed = this.#parse(buf, base, atEnd, walker);
      this.#flushBlock();
      return consumed;
    } finally {
      block.clear();
      if (walker !== null) {
        this.#ownState.set(walker.pidState);
        this.#useState(this.#ownState);
        walker.busy = false;
      }
    }
  }

  #useState(state: Uint8Array): void {
    this.#counters = new Int8Array(state.buffer, state.byteOffset, PID_COUNT);
    this.#kinds = state.subarray(PID_COUNT, 2 * PID_COUNT);
    this.#tableSlots.use(this.#kinds, state.subarray(2 * PID_COUNT));
  }

  #ownBlock(): VideoBlock {
    this.#jsBlock ??= new VideoBlock(new Uint8Array(VIDEO_BLOCK_BYTES));
    return this.#jsBlock;
  }

  /** Recomputes the kernel's kind of `pid` after the table PIDs, the video PID or the PES state changed. */
  #setKind(pid: number): void {
    if (pid < 0) return;
    this.#kinds[pid] =
      pid === this.#tables.videoPid
        ? this.#pes.state === "payload"
          ? KIND_VIDEO
          : KIND_CALLER
        : this.#tables.isTablePid(pid)
          ? KIND_CALLER
          : KIND_OTHER;
  }

  /**
   * Lets the kernel walk from packet `p` on (in sync) as far as it can, adding the runs of video it copied to
   * the block; returns the first packet it left to JavaScript (or the first incomplete one).
   */
  #walk(kernel: TsPacketKernel, buf: Uint8Array, p: number, base: number): number {
    const size = this.packetLength;
    const windowPackets = Math.floor(TS_WALK_WINDOW_BYTES / size);
    for (;;) {
      const packets = Math.min(Math.floor((buf.length - p) / size), windowPackets);
      if (packets === 0) return p;
      const end = p + packets * size;
      // this.#block is the kernel's block while it walks
      const stop = kernel.walk(buf, p, end, size, this.#syncOffset, base);
      p = stop;
      if (stop === end) continue;
      // It may have stopped for want of room: hand the block on and try the packet again.
      if (kernel.block.room < size && kernel.block.length > 0) {
        this.#flushBlock();
        continue;
      }
      return p;
    }
  }

  /** Hands the gathered video to the sink: as one block where it takes blocks, else piece by piece. */
  #flushBlock(): void {
    const block = this.#block;
    if (block.length === 0) return;
    const bytes = block.bytes.subarray(0, block.length);
    const stamps = this.#sink.timestamps;
    if (stamps) {
      const packets = {
        buf: this.#chunk,
        base: this.#chunkBase,
        packetLength: this.packetLength,
        syncOffset: this.#syncOffset,
      };
      blockTimestamps(packets, block, (pts, dts, es) => stamps.call(this.#sink, pts, dts, es));
    }
    if (this.#sink.videoBlock) {
      this.#sink.videoBlock(bytes, block.runs, block.runCount, this.packetLength);
    } else {
      const size = this.packetLength;
      const runs = block.runs;
      for (let r = 0, es = 0; r < RUN_FIELDS * block.runCount; r += RUN_FIELDS) {
        const length = runs[r + 2] as number;
        for (let k = 0; k < (runs[r + 3] as number); k++, es += length) {
          const at = k * size;
          this.#sink.video(
            bytes,
            es,
            es + length,
            (runs[r] as number) + at,
            (runs[r + 1] as number) + at,
            size,
          );
        }
      }
    }
    block.clear();
  }

  /** Appends a video piece to the block, handing the block on first if it is full. */
  #video(buf: Uint8Array, start: number, end: number, fileOffset: number, unitOffset: number): void {
    if (this.#block.room < end - start) this.#flushBlock();
    this.#block.append(buf, start, end, fileOffset, unitOffset);
  }

  #parse(buf: Uint8Array, base: number, atEnd: boolean, kernel: TsPacketKernel | null): number {
    const size = this.packetLength;
    const len = buf.length;
    let p = 0;
    for (;;) {
      if (!this.#inSync) {
        const found = this.#findSync(buf, p, atEnd);
        if (found < 0) return atEnd ? len : Math.max(p, len - size * RESYNC_PACKETS);
        if (!atEnd && len - found < size * RESYNC_PACKETS) return found;
        p = found;
        this.#inSync = true;
      }
      if (kernel !== null) p = this.#walk(kernel, buf, p, base);
      if (len - p < size) {
        if (atEnd && p < len) {
          this.#sink.error(
            base + p,
            "ERR_TS_TRUNCATED",
            `The last packet is cut off after ${len - p} of ${size} bytes`,
          );
          return len;
        }
        return p;
      }
      if (buf[p + this.#syncOffset] !== TS_SYNC_BYTE) {
        this.#sink.error(base + p, "ERR_TS_SYNC", `Lost Transport Stream sync: no 0x47 at packet start`);
        this.#inSync = false;
        p += 1;
        continue;
      }
      this.#packet(buf, p, base);
      p += size;
    }
  }

  /** Next position whose sync byte repeats every packet for RESYNC_PACKETS packets (or to the data's end). */
  #findSync(buf: Uint8Array, from: number, atEnd: boolean): number {
    const size = this.packetLength;
    for (
      let i = buf.indexOf(TS_SYNC_BYTE, from + this.#syncOffset);
      i >= 0;
      i = buf.indexOf(TS_SYNC_BYTE, i + 1)
    ) {
      const start = i - this.#syncOffset;
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

  #packet(buf: Uint8Array, p: number, base: number): void {
    const packetOffset = base + p;
    const at = p + this.#syncOffset;
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
        this.#sink.error(packetOffset, e.code, e.message);
      }
      return;
    }
    if (pid === PID_NULL) return;
    if ((b1 & 0x80) !== 0) {
      this.#sink.error(
        packetOffset,
        "ERR_TS_TRANSPORT_ERROR",
        `Dropped packet of PID ${pid}: transport_error_indicator is set`,
      );
      if (pid === this.#tables.videoPid) this.#pes.abort();
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
        this.#sink.error(packetOffset, e.code, e.message);
        this.#tables.continuityBroken(pid);
        return;
      }
    }
    if (!this.#continuityOk(pid, b3 & 0x0f, hasPayload, discontinuity, packetOffset)) return;
    if (!hasPayload || payloadStart >= end) return;
    if (b3 >> 6 !== 0) {
      if (pid === this.#tables.videoPid) {
        this.#sink.error(
          packetOffset,
          "ERR_TS_SCRAMBLED",
          "Cannot read video packet: transport_scrambling_control is set",
        );
        this.#pes.abort();
      }
      return;
    }
    const payloadOffset = base + payloadStart;
    const payloadUnitStart = (b1 & 0x40) !== 0;
    if (pid === this.#tables.videoPid) {
      this.#pes.payload(buf, payloadStart, end, payloadUnitStart, payloadOffset, packetOffset);
    } else if (this.#tables.isTablePid(pid)) {
      if (this.#tableSlots.isRepeat(pid, buf, at)) return;
      const clean = this.#tables.push(pid, buf, payloadStart, end, payloadUnitStart, payloadOffset);
      this.#tableSlots.keep(pid, clean ? buf.subarray(at, at + TS_PACKET_LENGTH) : undefined);
    }
  }

  /** Checks continuity_counter (ISO/IEC 13818-1 2.4.3.3); false for a duplicate packet, which is dropped. */
  #continuityOk(
    pid: number,
    counter: number,
    hasPayload: boolean,
    discontinuity: boolean,
    offset: number,
  ): boolean {
    const last = this.#counters[pid]!;
    this.#counters[pid] = counter;
    if (last === NO_COUNTER || discontinuity) return true;
    if (!hasPayload) {
      if (counter !== last) this.#reportContinuity(pid, last, last, counter, offset);
      return true;
    }
    if (counter === last) return false; // a duplicate packet may be sent once; its payload repeats the last
    const expected = (last + 1) % CONTINUITY_MODULO;
    if (counter !== expected) this.#reportContinuity(pid, last, expected, counter, offset);
    return true;
  }

  #reportContinuity(pid: number, _last: number, expected: number, got: number, offset: number): void {
    this.#sink.error(
      offset,
      "ERR_TS_CONTINUITY",
      `Packets lost on PID ${pid}: continuity_counter ${got}, expected ${expected}`,
    );
    this.#tables.continuityBroken(pid);
  }
}
