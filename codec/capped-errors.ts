/** @module An index's error list, capped so that garbage input cannot grow memory without bound. */
import type { IndexError } from "./recording-index.ts";

/** Beyond this many errors an indexer only counts them; one summary error then says how many were left out. */
export const MAX_INDEX_ERRORS = 10_000;

/** The errors of one indexer, in the order found: the first MAX_INDEX_ERRORS, then a count of the rest. */
export class CappedErrors {
  readonly list: IndexError[] = [];
  #dropped = 0;

  add(offset: number, code: string, message: string): void {
    if (this.list.length >= MAX_INDEX_ERRORS) this.#dropped++;
    else this.list.push({ offset, code, message });
  }

  /** The error that says how many `what` were left out, at `offset` with `code`; undefined when none were. */
  summary(offset: number, code: string, what: string): IndexError | undefined {
    if (this.#dropped === 0) return undefined;
    return {
      offset,
      code,
      message: `${this.#dropped} more ${what} were not recorded (limit ${MAX_INDEX_ERRORS})`,
    };
  }

  /** Ends the list with summary(), if there is one. Call once, after the last add(). */
  close(offset: number, code: string, what: string): void {
    const s = this.summary(offset, code, what);
    if (s) this.list.push(s);
  }
}
