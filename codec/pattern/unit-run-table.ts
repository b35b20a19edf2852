/** @module The ES-to-file unit runs a riding pattern planner collects during pass 1: RUN_FIELDS numbers a run, in one growing array. */
import { RUN_FIELDS } from "./es-pattern-plan.ts";

/**
 * What the indexer's `unitRun()` reports, kept as EsPatternPlan's `runs`/`runCount` want them (ES offset, ES
 * bytes per unit, file offset of the first unit's bytes, stride, unit count). A TS has tens of thousands of
 * runs, so they live in one Float64Array that doubles when full, not an object each.
 */
export class UnitRunTable {
  #runs = new Float64Array(RUN_FIELDS * 256);
  #count = 0;

  /** The runs so far, RUN_FIELDS numbers each (the array may be longer than count × RUN_FIELDS). */
  get runs(): Float64Array {
    return this.#runs;
  }

  get count(): number {
    return this.#count;
  }

  push(es: number, length: number, file: number, unitLength: number, count: number): void {
    let at = RUN_FIELDS * this.#count;
    if (at === this.#runs.length) {
      const grown = new Float64Array(2 * this.#runs.length);
      grown.set(this.#runs);
      this.#runs = grown;
    }
    const runs = this.#runs;
    runs[at++] = es;
    runs[at++] = length;
    runs[at++] = file;
    runs[at++] = unitLength;
    runs[at] = count;
    this.#count++;
  }
}
