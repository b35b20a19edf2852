/** @module Reassembles the PES packets of a Transport Stream's video PID: headers read, payload handed on (ISO/IEC 13818-1 2.4.3.6). */

import { CodecError, codecError } from "../codec-error.ts";
import { isVideoStreamId, parsePesHeader } from "./pes-header.ts";

/** PES header: 9 fixed bytes plus at most 255 of PES_header_data_length, ISO/IEC 13818-1 2.4.3.6. */
const MAX_PES_HEADER = 9 + 255;

/** Where the video PID is: before any PES start, collecting a PES header, or passing a PES's payload through. */
export type PesState = "none" | "header" | "payload";

export interface TsVideoPesEvents {
  /** ES bytes bytes[start, end), at file offset `fileOffset` inside the packet at `unitOffset`. */
  video(bytes: Uint8Array, start: number, end: number, fileOffset: number, unitOffset: number): void;
  error(offset: number, code: string, message: string): void;
  /** The PES just read carries a PTS (and DTS, else dts = pts); called before its payload's video(). */
  timestamps?(pts: number, dts: number): void;
  /** The state changed (the TS kernel walks the video PID's packets only while it is "payload"). */
  state(state: PesState): void;
}

interface PendingPiece {
  bytes: Uint8Array;
  fileOffset: number;
  unitOffset: number;
}

/**
 * The video PID's payloads, packet by packet: a payload_unit_start_indicator begins a PES whose header may be
 * spread over several packets; once it is read, what follows it is video. Reports ERR_PES_TRUNCATED,
 * ERR_PES_STREAM_ID and the header errors of parsePesHeader().
 */
export class TsVideoPes {
  #state: PesState = "none";
  #pending: PendingPiece[] = [];
  #pendingBytes = 0;
  #pendingStart = 0;

  readonly #events: TsVideoPesEvents;

  constructor(events: TsVideoPesEvents) {
    this.#events = events;
  }

  get state(): PesState {
    return this.#state;
  }

  /** Drops the PES in progress (a lost or damaged packet): video resumes at the next PES start. */
  abort(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#setState("none");
  }

  /** The payload buf[start, end) of a video packet at `unitOffset`; its first byte is at file offset `fileOffset`. */
  payload(
    buf: Uint8Array,
    start: number,
    end: number,
    unitStart: boolean,
    fileOffset: number,
    unitOffset: number,
  ): void {
    if (unitStart) {
      if (this.#state === "header") {
        this.#events.error(
          this.#pendingStart,
          "ERR_PES_TRUNCATED",
          "Cannot parse PES header: the next PES began first",
        );
      }
      this.abort();
      this.#setState("header");
      this.#pendingStart = fileOffset;
    }
    if (this.#state === "payload") {
      this.#events.video(buf, start, end, fileOffset, unitOffset);
      return;
    }
    if (this.#state !== "header") return; // payload of a PES whose start we never saw
    this.#pending.push({ bytes: buf.slice(start, end), fileOffset, unitOffset });
    this.#pendingBytes += end - start;
    const joined = new Uint8Array(this.#pendingBytes);
    let o = 0;
    for (const piece of this.#pending) {
      joined.set(piece.bytes, o);
      o += piece.bytes.length;
    }
    let headerLength: number;
    try {
      const header = parsePesHeader(joined, 0);
      if (!isVideoStreamId(header.streamId)) {
        throw codecError(
          "ERR_PES_STREAM_ID",
          `Cannot use PES: stream_id 0x${header.streamId.toString(16)} on the video PID`,
          0,
        );
      }
      headerLength = header.headerLength;
      if (header.pts !== undefined) this.#events.timestamps?.(header.pts, header.dts ?? header.pts);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      if (e.code === "ERR_PES_TRUNCATED" && this.#pendingBytes < MAX_PES_HEADER) return;
      this.#events.error(this.#pendingStart, e.code, e.message);
      this.abort();
      return;
    }
    // Hand on what follows the header in each collected piece, with that piece's own file position.
    let skip = headerLength;
    for (const piece of this.#pending) {
      if (skip >= piece.bytes.length) {
        skip -= piece.bytes.length;
        continue;
      }
      this.#events.video(piece.bytes, skip, piece.bytes.length, piece.fileOffset + skip, piece.unitOffset);
      skip = 0;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#setState("payload");
  }

  #setState(state: PesState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.state(state);
  }
}
