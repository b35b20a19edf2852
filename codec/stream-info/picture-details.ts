/** @module Per-picture packet positions and PES time stamps, gathered while a recording is indexed. */
import type { PictureRecord } from "../recording-index.ts";

/** Stamps already matched are dropped in batches of this many, so memory stays bounded by the index. */
const COMPACT_AFTER = 4096;

/**
 * Collects, for each picture in stream order, what ffprobe reports of its packet: the file position of the
 * container unit carrying its first byte (pkt_pos) and the PTS/DTS of the PES packet in which it starts.
 *
 * ISO/IEC 13818-1 2.4.3.7 (PTS): a PES packet's PTS belongs to the first access unit whose first byte (for
 * video, its picture start code, 2.7.5) begins in that packet; later pictures starting in the same packet
 * carry none. A picture's packet starts where the previous picture ended, as ffmpeg's parsers cut packets:
 * the sequence and GOP headers before a picture travel with it.
 */
export class PictureDetails {
  readonly pos: number[] = [];
  readonly pts: (number | null)[] = [];
  readonly dts: (number | null)[] = [];
  #stampEs: number[] = [];
  #stampPts: number[] = [];
  #stampDts: number[] = [];
  /** The stamp whose PES holds the last picture looked up, and the one last given to a picture. */
  #current = 0;
  #used = -1;
  /** pos of the next picture: the unit carrying the previous picture's end (at first, the first ES byte). */
  #nextPos = -1;

  /**
   * A PES whose payload starts at ES offset `esOffset` carries `pts` and `dts`. Stamps may come out of order
   * (the TS kernel's are read back when its block is handed on) and twice; each ES offset is kept once, sorted.
   */
  stamp(esOffset: number, pts: number, dts: number): void {
    const es = this.#stampEs;
    const last = es.length > 0 ? (es[es.length - 1] as number) : -1;
    if (esOffset > last) {
      es.push(esOffset);
      this.#stampPts.push(pts);
      this.#stampDts.push(dts);
      return;
    }
    let at = es.length;
    while (at > 0 && (es[at - 1] as number) > esOffset) at--;
    if (at > 0 && es[at - 1] === esOffset) return;
    es.splice(at, 0, esOffset);
    this.#stampPts.splice(at, 0, pts);
    this.#stampDts.splice(at, 0, dts);
  }

  /** The first ES byte came in the container unit at file offset `unitOffset`. */
  start(unitOffset: number): void {
    if (this.#nextPos < 0 && this.pos.length === 0) this.#nextPos = unitOffset;
  }

  /** The next picture in stream order; `unitAt(es)` is the file offset of the unit carrying ES byte `es`. */
  picture(p: PictureRecord, unitAt: (esOffset: number) => number): void {
    this.pos.push(this.#nextPos);
    this.#nextPos = unitAt(p.offset + p.length);
    const es = this.#stampEs;
    let i = this.#current;
    while (i + 1 < es.length && (es[i + 1] as number) <= p.offset) i++;
    this.#current = i;
    if (i < es.length && (es[i] as number) <= p.offset && i !== this.#used) {
      this.#used = i;
      this.pts.push(this.#stampPts[i] as number);
      this.dts.push(this.#stampDts[i] as number);
    } else {
      this.pts.push(null);
      this.dts.push(null);
    }
    if (i >= COMPACT_AFTER) this.#compact(i);
  }

  #compact(keepFrom: number): void {
    this.#stampEs = this.#stampEs.slice(keepFrom);
    this.#stampPts = this.#stampPts.slice(keepFrom);
    this.#stampDts = this.#stampDts.slice(keepFrom);
    this.#used -= keepFrom;
    this.#current -= keepFrom;
  }
}
