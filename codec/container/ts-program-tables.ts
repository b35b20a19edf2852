/** @module Follows a Transport Stream's PAT and PMTs to the video stream to demux (ISO/IEC 13818-1 2.4.4). */

import { CodecError } from "../codec-error.ts";
import type { VideoFormat } from "../recording-index.ts";
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
import { PID_PAT } from "./ts-packet.ts";

const VIDEO_STREAM_TYPES = new Map<number, VideoFormat>([
  [STREAM_TYPE_MPEG1_VIDEO, "mpeg1"],
  [STREAM_TYPE_MPEG2_VIDEO, "mpeg2"],
  [STREAM_TYPE_H264, "h264"],
  [STREAM_TYPE_HEVC, "hevc"],
]);

export interface TsProgramEvents {
  /** `pid` carries a PMT from now on. */
  pmtPid(pid: number): void;
  /** The video stream to demux: the first one named by a PMT. */
  video(pid: number, format: VideoFormat): void;
  error(offset: number, code: string, message: string): void;
}

/**
 * Reads the sections of the PAT PID and of every PMT PID the PAT names, and chooses the first video stream of
 * the first program whose PMT has one. Reports PSI errors (pointer, section length, CRC, syntax) at their file
 * offsets.
 */
export class TsProgramTables {
  /** The elementary streams of the PMTs read until the video was chosen, in PMT order. */
  readonly streams: { pid: number; streamType: number }[] = [];
  /** The chosen video PID, -1 before a PMT names one. */
  videoPid = -1;
  readonly #pmtPids = new Set<number>();
  readonly #assemblers = new Map<number, PsiAssembler>();
  #reported = 0;

  readonly #events: TsProgramEvents;

  constructor(events: TsProgramEvents) {
    this.#events = events;
  }

  /** `pid` carries the PAT or a PMT. */
  isTablePid(pid: number): boolean {
    return pid === PID_PAT || this.#pmtPids.has(pid);
  }

  /**
   * The payload buf[start, end) of a packet of a table PID, its first byte at file offset `fileOffset`. Returns
   * whether the read was clean: the packet started a section, reported no error and left no section open. Read
   * again with no section open, the same packet would have the same effect (PIDs already added, or a PMT after
   * the video stream is chosen), so its unchanged repeats (the PAT and PMTs come every ~100 ms) may be skipped.
   */
  push(
    pid: number,
    buf: Uint8Array,
    start: number,
    end: number,
    unitStart: boolean,
    fileOffset: number,
  ): boolean {
    const assembler = this.#assembler(pid);
    const reported = this.#reported;
    assembler.push(buf.subarray(start, end), unitStart, fileOffset);
    return unitStart && !assembler.inSection && this.#reported === reported;
  }

  /** Packets of `pid` were lost: the section in progress is dropped. */
  continuityBroken(pid: number): void {
    this.#assemblers.get(pid)?.reset();
  }

  #error(offset: number, code: string, message: string): void {
    this.#reported++;
    this.#events.error(offset, code, message);
  }

  #assembler(pid: number): PsiAssembler {
    let a = this.#assemblers.get(pid);
    if (!a) {
      a = new PsiAssembler(
        (section, offset) => this.#section(pid, section, offset),
        (offset, code, message) => this.#error(offset, code, message),
      );
      this.#assemblers.set(pid, a);
    }
    return a;
  }

  #section(pid: number, bytes: Uint8Array, fileOffset: number): void {
    try {
      const section = parsePsiSection(bytes, 0);
      if (!section.currentNext) return;
      if (pid === PID_PAT && section.tableId === TABLE_ID_PAT) {
        for (const program of parsePat(section)) {
          if (program.programNumber === 0 || this.#pmtPids.has(program.pid)) continue;
          this.#pmtPids.add(program.pid);
          this.#events.pmtPid(program.pid);
        }
      } else if (this.#pmtPids.has(pid) && section.tableId === TABLE_ID_PMT) {
        if (this.videoPid >= 0) return;
        const pmt = parsePmt(section);
        for (const s of pmt.streams)
          if (!this.streams.some((known) => known.pid === s.pid))
            this.streams.push({ pid: s.pid, streamType: s.streamType });
        for (const s of pmt.streams) {
          const format = VIDEO_STREAM_TYPES.get(s.streamType);
          if (format === undefined) continue;
          this.videoPid = s.pid;
          this.#events.video(s.pid, format);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.#error(fileOffset + e.offset, e.code, e.message);
    }
  }
}
