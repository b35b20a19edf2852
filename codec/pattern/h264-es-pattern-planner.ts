/** @module Plans H.264 cbcs pattern mode in elementary-stream coordinates (pattern header version 4): a row per coded slice's data and the unit runs, no row per block. */
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { VideoObserver } from "../container/video-observer.ts";
import type { RecordingIndex } from "../recording-index.ts";
import { cbcsEsEncryptedBytes } from "./cbcs-es-walk.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { checkPatternScheme, type PatternScheme } from "./pattern-scheme.ts";
import { ridingIndex } from "./riding-index.ts";
import { runsToBody } from "./runs-to-body.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import { UnitRunTable } from "./unit-run-table.ts";

/**
 * Rides on a RecordingIndexer's scan like H264PatternPlanner: for each coded slice NAL unit whose header it
 * could read (h264Slice()), one row, its data span [dataStart, nalEnd) in ES offsets, however many packets cut
 * it; and the indexer's ES-to-file unit runs as they retire. finish(index) moves the runs to direct-body
 * offsets (bytes of protected ranges leave them). The blocks, their chains and the drop of blocks touching a
 * protected range are then derived by both ends (CbcsEsWalk): the version 2 plan had a row per 16-byte block
 * (355 k for a 60 MiB TS), built in pass 1, re-encoded in finish and sent in the header.
 */
export class H264EsPatternPlanner implements VideoObserver {
  readonly #scheme: Extract<PatternScheme, { kind: "cbcs" }>;
  #indexer: RecordingIndexer | undefined;
  readonly #slices: PatternRangeTable;
  #sliceEnd = 0;
  #count = 0;
  #clear = 0;
  readonly #runs: UnitRunTable;

  /**
   * `o.runs`: the table unitRun() fills, when a caller shares one between planners riding the same indexer
   * (ridingPatternPlanners()): they collect the same runs, and one copy of tens of thousands is enough.
   * `o.store`: where the slice table keeps its full blocks (a sender's PlanSpillFiles), so the slices, ~2.9 MB
   * per GiB of TS, are not held in memory (issue 14).
   */
  constructor(
    scheme: Extract<PatternScheme, { kind: "cbcs" }>,
    o: { runs?: UnitRunTable; store?: RangeBlockStore | undefined } = {},
  ) {
    checkPatternScheme(scheme);
    this.#slices = new PatternRangeTable({ store: o.store });
    this.#scheme = scheme;
    this.#runs = o.runs ?? new UnitRunTable();
  }

  /** An indexer and a planner that rides on its scan: push the recording into `indexer` only. */
  static withIndexer(scheme: Extract<PatternScheme, { kind: "cbcs" }>): {
    indexer: RecordingIndexer;
    planner: H264EsPatternPlanner;
  } {
    const planner = new H264EsPatternPlanner(scheme);
    const indexer = new RecordingIndexer({ videoObserver: planner });
    planner.#indexer = indexer;
    return { indexer, planner };
  }

  /** Rides on `indexer`, which a caller made with an observer that forwards to this planner, unitRun() included. */
  attach(indexer: RecordingIndexer): void {
    if (this.#indexer !== undefined) throw new TypeError("Cannot attach an H264EsPatternPlanner twice");
    this.#indexer = indexer;
  }

  /** Coded slices seen, and those left clear because their header could not be read. */
  get slices(): { total: number; clear: number } {
    return { total: this.#count, clear: this.#clear };
  }

  startCode(): void {}

  end(): void {}

  h264Slice(_nalStart: number, dataStart: number, nalEnd: number): void {
    this.#count++;
    if (dataStart < 0) {
      this.#clear++;
      return;
    }
    // Spans ascend and never overlap (NAL units do not); an empty one has no block.
    if (nalEnd <= dataStart || dataStart < this.#sliceEnd) return;
    this.#slices.push(dataStart, nalEnd - dataStart);
    this.#sliceEnd = nalEnd;
  }

  unitRun(es: number, length: number, file: number, unitLength: number, count: number): void {
    this.#runs.push(es, length, file, unitLength, count);
  }

  /**
   * After the last chunk: the plan, or undefined when the video is not H.264 in a PS, TS or ES (the caller
   * then plans otherwise). Throws a RangeError when the index is of another container than the bytes.
   */
  finish(index: RecordingIndex): EsPatternPlan | undefined {
    const own = ridingIndex(this.#indexer, index);
    if (index.format !== "h264" || own.format !== "h264" || own.container === "mp4") return undefined;
    // The plan owns the runs from here: they become the body runs where they lie (runsToBody() in place).
    const taken = this.#runs.take();
    // With a store (a sender's), the body runs go to it as they are made and are read back a block at a time.
    const body = runsToBody(taken.runs, taken.count, index.protectedRanges, {
      inPlace: true,
      store: this.#runs.store,
    });
    const plan = { scheme: this.#scheme, slices: this.#slices, runs: body.runs, runCount: body.runCount };
    return { ...plan, encryptedBytes: cbcsEsEncryptedBytes(plan) };
  }
}
