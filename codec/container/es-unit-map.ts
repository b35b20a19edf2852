/** @module Where each piece of the demuxed video elementary stream came from in the file: ES range -> carrying container units. */

import type { RangeCoalescer } from "./range-coalescer.ts";

const INITIAL_CAPACITY = 256;

/**
 * Takes a final run: `count` units `unitLength` apart, each carrying `length` ES bytes, the first at ES offset
 * `es` and file offset `file`.
 */
export type RetiredRunSink = (
  es: number,
  length: number,
  file: number,
  unitLength: number,
  count: number,
) => void;

/**
 * A queue of runs, each `count` consecutive units of `unitLength` bytes starting at file offset `unit`, every
 * one carrying `length` ES bytes, the first at ES offset `es` and file offset `file` (the k-th unit's at
 * `file + k * unitLength`). A Transport Stream hands on one 184-byte
 * payload per 188-byte packet (1.5 million for 280 MB) and nearly all of them sit back to back with full
 * payloads, so a run covers ~50 packets between two audio or PCR packets: 30 thousand records instead of
 * 1.5 million objects, which had cost more than the demux itself. Runs live in parallel Float64Arrays,
 * are appended in ES order and dropped from the head once no open picture can reach them.
 */
export class EsUnitMap {
  #es = new Float64Array(INITIAL_CAPACITY);
  #length = new Float64Array(INITIAL_CAPACITY);
  #unit = new Float64Array(INITIAL_CAPACITY);
  #unitLength = new Float64Array(INITIAL_CAPACITY);
  #count = new Float64Array(INITIAL_CAPACITY);
  #file = new Float64Array(INITIAL_CAPACITY);
  #head = 0;
  #tail = 0;
  /** What the next piece must look like to extend the last run. */
  #nextEs = -1;
  #nextUnit = -1;
  #nextFile = -1;
  #lastLength = -1;
  #lastUnitLength = -1;
  /** The run esToFile() last started from: a hint, checked before use. */
  #cursor = 0;
  /** Told every run once it is final (dropped by trim() or retireAll()): the version 3 pattern planner keeps them. */
  readonly #retire: RetiredRunSink | undefined;

  constructor(retire?: RetiredRunSink) {
    this.#retire = retire;
  }

  /** Runs held. */
  get size(): number {
    return this.#tail - this.#head;
  }

  /**
   * Appends ES bytes [es, es + length), found at file offset `file` inside the unit [unit, unit + unitLength),
   * and as many bytes again in each of the `count - 1` units after it (each `unitLength` further on). ES
   * pieces must come in ES order without gaps.
   */
  append(es: number, length: number, file: number, unit: number, unitLength: number, count = 1): void {
    if (length <= 0 || count <= 0) return;
    this.#appendOne(es, length, file, unit, unitLength);
    if (count === 1) return;
    const es2 = es + length;
    const unit2 = unit + unitLength;
    const file2 = file + unitLength;
    const last = this.#tail - 1;
    if (
      es2 === this.#nextEs &&
      length === this.#lastLength &&
      unit2 === this.#nextUnit &&
      file2 === this.#nextFile &&
      unitLength === this.#lastUnitLength
    ) {
      this.#count[last]! += count - 1;
    } else {
      this.#push(es2, length, file2, unit2, unitLength);
      this.#count[this.#tail - 1] = count - 1;
    }
    this.#nextEs = es + length * count;
    this.#nextUnit = unit + unitLength * count;
    this.#nextFile = file + unitLength * count;
  }

  #appendOne(es: number, length: number, file: number, unit: number, unitLength: number): void {
    if (es === this.#nextEs && length === this.#lastLength) {
      if (unit === this.#nextUnit && file === this.#nextFile && unitLength === this.#lastUnitLength) {
        this.#count[this.#tail - 1]!++;
        this.#nextUnit = unit + unitLength;
        this.#nextFile = file + unitLength;
        this.#nextEs = es + length;
        return;
      }
    }
    const last = this.#tail - 1;
    const lastFile = this.#nextFile - this.#lastUnitLength;
    if (
      es === this.#nextEs &&
      last >= this.#head &&
      unit === this.#nextUnit - this.#lastUnitLength &&
      file === lastFile + this.#lastLength
    ) {
      // More ES bytes of the unit just recorded, right after the last ones (a PES packet handed on in pieces).
      if (this.#count[last] === 1) {
        this.#length[last]! += length;
        this.#lastLength = this.#length[last]!;
        this.#nextEs = es + length;
        return;
      }
      this.#count[last]!--;
      this.#push(es - this.#lastLength, this.#lastLength + length, lastFile, unit, unitLength);
      return;
    }
    this.#push(es, length, file, unit, unitLength);
  }

  /**
   * The first live run that ends after esOffset. The pattern planner asks once per slice, in ES order: start
   * from the run the last call found rather than searching again (any live run at or before esOffset is a
   * valid start, the runs being sorted).
   */
  #seek(esOffset: number): number {
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    let i = this.#cursor;
    if (i >= this.#head && i < this.#tail && es[i]! <= esOffset) {
      while (i < this.#tail && es[i]! + length[i]! * count[i]! <= esOffset) i++;
    } else {
      i = this.#find(esOffset);
    }
    this.#cursor = i;
    return i;
  }

  /**
   * Calls `emit(fileOffset, length)` for the file bytes that carry ES range [esOffset, esOffset + esLength),
   * in order, one call per unit touched (one for a run of units holding only ES bytes, which lie back to back).
   * Only ES bytes not yet trimmed are mapped.
   */
  esToFile(esOffset: number, esLength: number, emit: (fileOffset: number, length: number) => void): void {
    const end = esOffset + esLength;
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    for (let i = this.#seek(esOffset); i < this.#tail && es[i]! < end; i++) {
      const l = length[i]!;
      const unitLength = this.#unitLength[i]!;
      const file = this.#file[i]!;
      const from = Math.max(esOffset, es[i]!) - es[i]!;
      const to = Math.min(end, es[i]! + l * count[i]!) - es[i]!;
      if (l === unitLength) {
        // Units carry nothing but ES bytes, back to back (an elementary stream): the run maps in one piece.
        emit(file + from, to - from);
        continue;
      }
      for (let k = Math.floor(from / l), at = from; at < to; k++) {
        const pieceEnd = Math.min(to, (k + 1) * l);
        emit(file + k * unitLength + (at - k * l), pieceEnd - at);
        at = pieceEnd;
      }
    }
  }

  /**
   * esToFile() for the blocks of a pattern, in one walk: for the first `run` bytes of every `period` from
   * `esOffset` up to `esEnd` (the last run cut there), calls `emit(fileOffset, length)` per piece, in order, one
   * per unit a run touches. A pattern planner on a Transport Stream has a run every 160 ES bytes, cut by packet
   * headers: one walk per slice instead of a lookup per block.
   */
  patternToFile(
    esOffset: number,
    esEnd: number,
    run: number,
    period: number,
    emit: (fileOffset: number, length: number) => void,
  ): void {
    if (esEnd <= esOffset) return;
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    const tail = this.#tail;
    let i = this.#seek(esOffset);
    for (let block = esOffset; block < esEnd; block += period) {
      let from = block;
      const to = Math.min(block + run, esEnd);
      while (from < to) {
        while (i < tail && es[i]! + length[i]! * count[i]! <= from) i++;
        if (i >= tail) {
          this.#cursor = Math.max(this.#head, tail - 1);
          return;
        }
        const runEs = es[i]!;
        if (runEs > from) {
          // Bytes no unit carries (forgotten): skip to the next mapped byte.
          from = runEs;
          continue;
        }
        const l = length[i]!;
        const unitLength = this.#unitLength[i]!;
        const rel = from - runEs;
        const k = Math.floor(rel / l);
        // Units of nothing but ES bytes lie back to back: the piece runs on to the run's end.
        const pieceEnd = Math.min(to, l === unitLength ? runEs + l * count[i]! : runEs + (k + 1) * l);
        emit(this.#file[i]! + k * unitLength + (rel - k * l), pieceEnd - from);
        from = pieceEnd;
      }
    }
    this.#cursor = i < tail ? i : Math.max(this.#head, tail - 1);
  }

  /**
   * The file offset of ES byte `esOffset` when ES bytes [esOffset, esOffset + esLength) lie back to back in the
   * file (inside one unit's payload, or anywhere in a run of pure-ES units), else -1 (esToFile() then gives the
   * pieces). The pattern planner's per-slice question, answered without a callback.
   */
  esToFileContiguous(esOffset: number, esLength: number): number {
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    const i = this.#seek(esOffset);
    if (i >= this.#tail || es[i]! > esOffset) return -1;
    const l = length[i]!;
    const from = esOffset - es[i]!;
    const to = from + esLength;
    if (to > l * count[i]!) return -1;
    const unitLength = this.#unitLength[i]!;
    if (l === unitLength) return this.#file[i]! + from;
    const k = Math.floor(from / l);
    if (to > (k + 1) * l) return -1;
    return this.#file[i]! + k * unitLength + (from - k * l);
  }

  /** The file offset of the container unit carrying ES byte `esOffset`, or -1 when it is not (or no longer) mapped. */
  unitAt(esOffset: number): number {
    const i = this.#find(esOffset);
    if (i >= this.#tail || this.#es[i]! > esOffset) return -1;
    const k = Math.floor((esOffset - this.#es[i]!) / this.#length[i]!);
    return this.#unit[i]! + k * this.#unitLength[i]!;
  }

  /**
   * Adds to `ranges` the file bytes of ES range [esOffset, esOffset + esLength): whole units, or with
   * `exact` only the overlapping bytes (for an ES, where a unit is the bytes themselves).
   */
  protect(esOffset: number, esLength: number, exact: boolean, ranges: RangeCoalescer): void {
    const end = esOffset + esLength;
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    for (let i = this.#find(esOffset); i < this.#tail && es[i]! < end; i++) {
      const from = Math.max(esOffset, es[i]!) - es[i]!;
      const to = Math.min(end, es[i]! + length[i]! * count[i]!) - es[i]!;
      if (exact) {
        ranges.add(this.#unit[i]! + from, to - from);
      } else {
        const first = Math.floor(from / length[i]!);
        const last = Math.ceil(to / length[i]!);
        ranges.add(this.#unit[i]! + first * this.#unitLength[i]!, (last - first) * this.#unitLength[i]!);
      }
    }
  }

  /** Drops the runs that end at or before ES offset `settled`. */
  trim(settled: number): void {
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    let h = this.#head;
    while (h < this.#tail && es[h]! + length[h]! * count[h]! <= settled) h++;
    if (this.#retire !== undefined) this.#retireRuns(this.#head, h);
    this.#head = h;
    if (h === this.#tail) {
      // Nothing left to extend: the next piece starts a new run.
      this.#head = this.#tail = 0;
      this.#nextEs = -1;
    }
  }

  /** Hands every run still held to the retire sink and forgets them (the video has ended); no-op without a sink. */
  retireAll(): void {
    if (this.#retire === undefined) return;
    this.#retireRuns(this.#head, this.#tail);
    this.#head = this.#tail = 0;
    this.#nextEs = -1;
  }

  #retireRuns(from: number, to: number): void {
    const sink = this.#retire!;
    for (let i = from; i < to; i++)
      sink(this.#es[i]!, this.#length[i]!, this.#file[i]!, this.#unitLength[i]!, this.#count[i]!);
  }

  /** The first run that ends after ES offset `esOffset`. */
  #find(esOffset: number): number {
    const es = this.#es;
    const length = this.#length;
    const count = this.#count;
    let lo = this.#head;
    let hi = this.#tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (es[mid]! + length[mid]! * count[mid]! <= esOffset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #push(es: number, length: number, file: number, unit: number, unitLength: number): void {
    if (this.#tail === this.#es.length) this.#makeRoom();
    const i = this.#tail++;
    this.#es[i] = es;
    this.#length[i] = length;
    this.#unit[i] = unit;
    this.#unitLength[i] = unitLength;
    this.#count[i] = 1;
    this.#file[i] = file;
    this.#nextEs = es + length;
    this.#nextUnit = unit + unitLength;
    this.#nextFile = file + unitLength;
    this.#lastLength = length;
    this.#lastUnitLength = unitLength;
  }

  /** Moves the live runs to the front, growing the arrays only when more than half are live. */
  #makeRoom(): void {
    const live = this.#tail - this.#head;
    const capacity = live * 2 > this.#es.length ? this.#es.length * 2 : this.#es.length;
    const move = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      if (capacity === a.length) return a.copyWithin(0, this.#head, this.#tail);
      const b = new Float64Array(capacity);
      b.set(a.subarray(this.#head, this.#tail));
      return b;
    };
    this.#es = move(this.#es);
    this.#length = move(this.#length);
    this.#unit = move(this.#unit);
    this.#unitLength = move(this.#unitLength);
    this.#count = move(this.#count);
    this.#file = move(this.#file);
    this.#head = 0;
    this.#tail = live;
  }
}
