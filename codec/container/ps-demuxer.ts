/** @module Streaming MPEG Program Stream demuxer (ISO/IEC 13818-1 2.5; MPEG-1 system streams, ISO/IEC 11172-1). */

import { CodecError, codecError } from "../codec-error.ts";
import { PRIVATE_SUBSTREAM_KEY } from "../stream-info/stream-kind.ts";
import { ChunkedUnitParser } from "./chunked-unit-parser.ts";
import type { DemuxSink } from "./demux-sink.ts";
import {
  MAX_PACK_HEADER_LENGTH,
  MPEG_PROGRAM_END_CODE,
  PACK_START_CODE,
  parsePackHeader,
  parseSystemHeader,
  SYSTEM_HEADER_FIXED_LENGTH,
  SYSTEM_HEADER_START_CODE,
} from "./pack-header.ts";
import {
  isVideoStreamId,
  PES_FIXED_HEADER_LENGTH,
  parsePesHeader,
  STREAM_ID_PRIVATE_STREAM_1,
  STREAM_ID_PROGRAM_STREAM_MAP,
} from "./pes-header.ts";
import { parseProgramStreamMap } from "./program-stream-map.ts";

/** A PES packet is at most 6 + 65535 bytes (PES_packet_length is 16 bits), ISO/IEC 13818-1 2.4.3.7. */
const MAX_PES_PACKET_LENGTH = PES_FIXED_HEADER_LENGTH + 0xffff;
/** Start codes 0xB9..0xFF are system start codes; video start codes stay below, ISO/IEC 13818-1 Table 2-33. */
const FIRST_SYSTEM_START_CODE = MPEG_PROGRAM_END_CODE;
const START_CODE_LENGTH = 4;
/** packet_start_code_prefix, stream_id, PES_packet_length, two flag bytes, PES_header_data_length (2.4.3.6). */
const PES_OPTIONAL_HEADER_FIXED = 9;

/**
 * Demuxes the first video stream (stream_id 0xE0-0xEF) of a Program Stream. Audio, private, padding and
 * other PES packets are stepped over by PES_packet_length, so start-code-like bytes in their payload never
 * reach the video parser. On lost sync it reports ERR_PS_SYNC and resumes at the next system start code.
 */
export class PsDemuxer extends ChunkedUnitParser {
  protected readonly maxUnitLength = MAX_PES_PACKET_LENGTH;
  #inSync = true;
  #videoStreamId = -1;
  /** Pack header version seen last (1 = MPEG-1 system stream, 2 = MPEG-2 Program Stream), 0 before any. */
  packVersion: 0 | 1 | 2 = 0;
  /** stream_type per elementary_stream_id from the last valid program stream map. */
  readonly streamTypes = new Map<number, number>();
  /**
   * Every stream seen, in order of first appearance: stream_id, or for private_stream_1 0x100 + its
   * sub-stream id (the payload's first byte, as DVD-Video uses it), mapped to the file offset of its first PES.
   */
  readonly streamsSeen = new Map<number, number>();

  readonly #sink: DemuxSink;

  constructor(sink: DemuxSink) {
    super();
    this.#sink = sink;
  }

  /** The chosen video stream_id, or -1 before the first video PES. */
  get videoStream(): number {
    return this.#videoStreamId;
  }

  protected parseUnits(buf: Uint8Array, base: number, atEnd: boolean): number {
    let p = 0;
    const len = buf.length;
    for (;;) {
      if (!this.#inSync) {
        const found = findSystemStartCode(buf, p);
        if (found < 0) return atEnd ? len : Math.max(p, len - (START_CODE_LENGTH - 1));
        p = found;
        this.#inSync = true;
      }
      if (len - p < START_CODE_LENGTH) {
        if (atEnd && p < len)
          this.#sink.error(base + p, "ERR_PS_TRUNCATED", `${len - p} bytes after the last packet`);
        return atEnd ? len : p;
      }
      if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1 || buf[p + 3]! < FIRST_SYSTEM_START_CODE) {
        this.#sink.error(
          base + p,
          "ERR_PS_SYNC",
          "Lost Program Stream sync: no pack, system header or PES start code",
        );
        this.#inSync = false;
        p += 1;
        continue;
      }
      const code = buf[p + 3]!;
      if (code === MPEG_PROGRAM_END_CODE) {
        p += START_CODE_LENGTH;
        continue;
      }
      let unitLength: number;
      try {
        if (code === PACK_START_CODE) {
          if (!atEnd && len - p < MAX_PACK_HEADER_LENGTH) return p;
          const pack = parsePackHeader(buf, p);
          this.packVersion = pack.version;
          unitLength = pack.length;
        } else if (code === SYSTEM_HEADER_START_CODE) {
          if (!atEnd && len - p < SYSTEM_HEADER_FIXED_LENGTH) return p;
          const declared = SYSTEM_HEADER_FIXED_LENGTH + ((buf[p + 4]! << 8) | buf[p + 5]!);
          if (!atEnd && len - p < declared) return p;
          unitLength = parseSystemHeader(buf, p).length;
        } else {
          if (len - p < PES_FIXED_HEADER_LENGTH) {
            if (!atEnd) return p;
            throw codecError("ERR_PS_TRUNCATED", "Cannot parse PES packet: the file ends in its header", p);
          }
          const packetLength = (buf[p + 4]! << 8) | buf[p + 5]!;
          if (packetLength === 0) {
            // Unbounded PES packets exist only for video in a Transport Stream, ISO/IEC 13818-1 2.4.3.7.
            throw codecError(
              "ERR_PES_LENGTH",
              "Cannot use PES packet: PES_packet_length 0 in a Program Stream",
              p,
            );
          }
          const total = PES_FIXED_HEADER_LENGTH + packetLength;
          if (len - p < total) {
            if (!atEnd) return p;
            this.#sink.error(
              base + p,
              "ERR_PS_TRUNCATED",
              `PES packet of ${total} bytes is cut off after ${len - p}`,
            );
            this.#pesPacket(buf.subarray(p), base + p);
            return len;
          }
          this.#pesPacket(buf.subarray(p, p + total), base + p);
          unitLength = total;
        }
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        this.#sink.error(base + p, e.code, e.message);
        this.#inSync = false;
        p += 1;
        continue;
      }
      p += unitLength;
    }
  }

  #pesPacket(packet: Uint8Array, fileOffset: number): void {
    const streamId = packet[3]!;
    if (streamId === STREAM_ID_PROGRAM_STREAM_MAP) {
      this.#programStreamMap(packet, fileOffset);
      return;
    }
    this.#noteStream(packet, streamId, fileOffset);
    if (!isVideoStreamId(streamId)) return;
    if (this.#videoStreamId < 0) this.#videoStreamId = streamId;
    if (streamId !== this.#videoStreamId) return;
    let headerLength: number;
    try {
      const header = parsePesHeader(packet, 0);
      if (header.scrambled) {
        this.#sink.error(fileOffset, "ERR_PES_SCRAMBLED", "Cannot read video PES: its payload is scrambled");
        return;
      }
      headerLength = header.headerLength;
      if (header.pts !== undefined) this.#sink.timestamps?.(header.pts, header.dts ?? header.pts, 0);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.#sink.error(fileOffset + e.offset, e.code, e.message);
      return;
    }
    // packet is the whole PES packet, or what the file holds of a truncated last one.
    if (headerLength < packet.length) {
      this.#sink.video(
        packet,
        headerLength,
        packet.length,
        fileOffset + headerLength,
        fileOffset,
        packet.length,
      );
    }
  }

  #noteStream(packet: Uint8Array, streamId: number, fileOffset: number): void {
    let key = streamId;
    // MPEG-2 PES syntax: 9 fixed bytes, then PES_header_data_length bytes (ISO/IEC 13818-1 2.4.3.6).
    if (streamId === STREAM_ID_PRIVATE_STREAM_1 && packet.length > PES_OPTIONAL_HEADER_FIXED) {
      const payload = PES_OPTIONAL_HEADER_FIXED + packet[PES_OPTIONAL_HEADER_FIXED - 1]!;
      if (payload < packet.length) key = PRIVATE_SUBSTREAM_KEY + packet[payload]!;
    }
    if (!this.streamsSeen.has(key)) this.streamsSeen.set(key, fileOffset);
  }

  #programStreamMap(packet: Uint8Array, fileOffset: number): void {
    try {
      const map = parseProgramStreamMap(packet, 0);
      this.streamTypes.clear();
      for (const s of map.streams) this.streamTypes.set(s.streamId, s.streamType);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.#sink.error(fileOffset + e.offset, e.code, e.message);
    }
  }
}

/** Index of the next 00 00 01 xx with xx a system start code (0xB9..0xFF) at or after `from`, or -1. */
function findSystemStartCode(buf: Uint8Array, from: number): number {
  let i = buf.indexOf(1, from + 2);
  while (i >= 0 && i + 1 < buf.length) {
    if (buf[i - 1] === 0 && buf[i - 2] === 0 && buf[i + 1]! >= FIRST_SYSTEM_START_CODE) return i - 2;
    i = buf.indexOf(1, i + 1);
  }
  return -1;
}
