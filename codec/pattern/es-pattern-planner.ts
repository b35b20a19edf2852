/** @module Plans slice-block pattern mode in elementary-stream coordinates (pattern header version 3): a row per P/B slice and the unit runs, no row per block. */
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { VideoObserver } from "../container/video-observer.ts";
import { isSliceStartCode, START_CODE_BYTES } from "../mpeg-video/start-codes.ts";
import type { PictureRecord, RecordingIndex } from "../recording-index.ts";
import { type EsPatternPlan, esPatternEncryptedBytes } from "./es-pattern-plan.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { checkPatternScheme, type PatternScheme } from "./pattern-scheme.ts";
import { ridingIndex } from "./riding-index.ts";
import { runsToBody } from "./runs-to-body.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import { UnitRunTable } from "./unit-run-table.ts";

/** Rows the pending slices start with; they grow by doubling but stay near two pictures' slices. */
const PENDING_ROWS = 1024;

/**
 * Rides on a RecordingIndexer's scan like PatternPlanner, for the slice-block scheme: it notes each slice's
 * data span in ES offsets (one row, however many packets cut it) and keeps the indexer's ES-to-file unit runs
 * as they retire; finish(index) keeps the P/B/D slices and moves the runs to direct-body offsets. On a TS the
 * version 1 plan has a row per 16-byte crypt block (1.79 M for 279 MiB); this one a row per slice and per run.
 * Give it to the indexer's constructor (`EsPatternPlanner.withIndexer()`): the runs are read from there.
 */
export class EsPatternPlanner implements VideoObserver {
  readonly #scheme: Extract<PatternScheme, { kind: "slice-block" }>;
  #indexer: RecordingIndexer | undefined;
  #sliceTag = -1;
  /** Slices whose picture is not yet final: rows of (start code ES offset, data end). */
  #pending = new Float64Array(2 * PENDING_ROWS);
  #pendingRows = 0;
  /** Final pictures not yet used to settle pending slices (VideoObserver.picture), emptied at every settle. */
  readonly #pictures: PictureRecord[] = [];
  readonly #slices: PatternRangeTable;
  readonly #runs: UnitRunTable;

  /**
   * `o.runs`: the table unitRun() fills, when a caller shares one between planners riding the same indexer
   * (ridingPatternPlanners()): they collect the same runs, and one copy of tens of thousands is enough.
   * `o.store`: where the slice table keeps its full blocks (a sender's PlanSpillFiles), so the slices, ~2.9 MB
   * per GiB of TS, are not held in memory (issue 14).
   */
  constructor(
    scheme: Extract<PatternScheme, { kind: "slice-block" }>,
    o: { runs?: UnitRunTable; store?: RangeBlockStore | undefined } = {},
  ) {
    checkPatternScheme(scheme);
    this.#slices = new PatternRangeTable({ store: o.store });
    this.#scheme = scheme;
    this.#runs = o.runs ?? new UnitRunTable();
  }

  /** An indexer and a planner that rides on its scan: push the recording into `indexer` only. */
  static withIndexer(scheme: Extract<PatternScheme, { kind: "slice-block" }>): {
    indexer: RecordingIndexer;
    planner: EsPatternPlanner;
  } {
    const planner = new EsPatternPlanner(scheme);
    const indexer = new RecordingIndexer({ videoObserver: planner });
    planner.#indexer = indexer;
    return { indexer, planner };
  }

  /** Rides on `indexer`, which a caller made with an observer that forwards to this planner, unitRun() included. */
  attach(indexer: RecordingIndexer): void {
    if (this.#indexer !== undefined) throw new TypeError("Cannot attach an EsPatternPlanner twice");
    this.#indexer = indexer;
  }

  startCode(code: number, esOffset: number): void {
    this.#closeSlice(esOffset);
    if (isSliceStartCode(code)) this.#sliceTag = esOffset;
  }

  /** A final picture: the pending slices before its end are decided now (#settle). */
  picture(p: PictureRecord): void {
    this.#pictures.push(p);
    this.#settle(false);
  }

  end(esLength: number): void {
    this.#closeSlice(esLength);
  }

  unitRun(es: number, length: number, file: number, unitLength: number, count: number): void {
    this.#runs.push(es, length, file, unitLength, count);
  }

  /**
   * After the last chunk: the plan, or undefined when the video is not MPEG-1/2 in a PS, TS or ES (the caller
   * then plans otherwise). Throws a RangeError when the index is of another container than the bytes.
   */
  finish(index: RecordingIndex): EsPatternPlan | undefined {
    const own = ridingIndex(this.#indexer, index);
    const mpeg = (f: string) => f === "mpeg1" || f === "mpeg2";
    if (!mpeg(index.format) || !mpeg(own.format) || own.container === "mp4") return undefined;
    // The indexer has finished (ridingIndex() read its result): every picture has come.
    this.#settle(true);
    // The plan owns the runs from here: they become the body runs where they lie (runsToBody() in place).
    const taken = this.#runs.take();
    // With a store (a sender's), the body runs go to it as they are made and are read back a block at a time.
    const body = runsToBody(taken.runs, taken.count, index.protectedRanges, {
      inPlace: true,
      store: this.#runs.store,
    });
    const plan = { scheme: this.#scheme, slices: this.#slices, runs: body.runs, runCount: body.runCount };
    return { ...plan, encryptedBytes: esPatternEncryptedBytes(plan) };
  }

  #closeSlice(end: number): void {
    const tag = this.#sliceTag;
    if (tag < 0) return;
    this.#sliceTag = -1;
    if (end <= tag + START_CODE_BYTES) return;
    let at = 2 * this.#pendingRows;
    if (at === this.#pending.length) {
      const grown = new Float64Array(2 * this.#pending.length);
      grown.set(this.#pending);
      this.#pending = grown;
    }
    this.#pending[at++] = tag;
    this.#pending[at] = end;
    this.#pendingRows++;
  }

  /** Keeps the pending slices of P/B/D pictures that are final (all of them when `all`), drops the rest. */
  #settle(all: boolean): void {
    const pics = this.#pictures;
    const last = pics[pics.length - 1];
    const limit = all ? Infinity : last === undefined ? -Infinity : last.offset + last.length;
    const rows = this.#pending;
    const n = 2 * this.#pendingRows;
    let p = 0;
    let k = 0;
    for (; k < n; k += 2) {
      const tag = rows[k]!;
      if (tag >= limit) break;
      while (p + 1 < pics.length && pics[p + 1]!.offset <= tag) p++;
      const pic = pics[p];
      const keep = !(
        pic === undefined ||
        pic.type === "I" ||
        tag < pic.offset ||
        tag >= pic.offset + pic.length
      );
      const start = tag + START_CODE_BYTES;
      if (keep) this.#slices.push(start, rows[k + 1]! - start);
    }
    // The slices still pending start at or after the last picture's end: none of these pictures holds one.
    pics.length = 0;
    if (k > 0) {
      rows.copyWithin(0, k, n);
      this.#pendingRows = (n - k) / 2;
    }
  }
}
