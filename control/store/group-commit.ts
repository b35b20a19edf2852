/** @module Group commit: the writes that arrive in one turn of the event loop share one transaction, so a busy node pays one commit per turn, not one per request. */
import type { SqlDriver, SqlQueries } from "./sql-driver.ts";

/** Writes per shared transaction; past this the rest wait for the next one. */
const MAX_BATCH = 256;

interface Queued {
  fn: (tx: SqlQueries) => Promise<unknown>;
  resolve(v: unknown): void;
  reject(err: unknown): void;
}

/**
 * A commit costs far more than the statements before it (sqlite's WAL append, PostgreSQL's commit record), so
 * under load the writes queued in one turn run in one transaction, each in turn, and each caller's promise
 * settles only once that transaction has committed: a write is acknowledged only once stored, as with a
 * transaction of its own. A write that throws rolls back the shared transaction; each write of that batch is
 * then run again in a transaction of its own, so one bad write fails alone. Writes must therefore be safe to
 * run twice when the first run was rolled back (they are: a rolled-back run left nothing).
 */
export class GroupCommit {
  #queue: Queued[] = [];
  #scheduled = false;
  readonly #db: SqlDriver;

  private constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** The one group commit of a store (every store on one driver shares its commits). */
  static of(db: SqlDriver): GroupCommit {
    let g = shared.get(db);
    if (!g) {
      g = new GroupCommit(db);
      shared.set(db, g);
    }
    return g;
  }

  /** Runs fn inside the next shared transaction; resolves with fn's result once that transaction committed. */
  run<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
    const done = this.#enqueue(fn);
    this.#schedule();
    return done;
  }

  /**
   * Queues fn for the next shared transaction without starting one: it rides along with the next write that
   * does (run(), or another later() whose `commit` was called). `commit()` starts that transaction if fn is still
   * waiting and resolves with fn's result once fn has committed. A signed request's nonce is queued so, and its
   * request's own write (a QUERY's session) carries it: one commit where there were two, and the answer still
   * waits for the nonce's (device-auth.ts).
   */
  later<T>(fn: (tx: SqlQueries) => Promise<T>): { commit(): Promise<T> } {
    const done = this.#enqueue(fn);
    // Whoever queued it awaits commit(); until then a failure must not be an unhandled rejection.
    done.catch(() => {});
    return {
      commit: () => {
        this.#schedule();
        return done;
      },
    };
  }

  #enqueue<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Starts the next shared transaction after this turn, if writes wait and none is due. */
  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    // After this turn's I/O callbacks, so every request handled in the turn joins the transaction.
    setImmediate(() => void this.#commit());
  }

  async #commit(): Promise<void> {
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (this.#queue.length > 0) setImmediate(() => void this.#commit());
    else this.#scheduled = false;
    if (batch.length === 1) return this.#alone(batch[0]!);
    let results: unknown[];
    try {
      results = await this.#db.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const q of batch) out.push(await q.fn(tx));
        return out;
      });
    } catch {
      for (const q of batch) await this.#alone(q);
      return;
    }
    for (const [i, q] of batch.entries()) q.resolve(results[i]);
  }

  async #alone(q: Queued): Promise<void> {
    try {
      q.resolve(await this.#db.transaction(q.fn));
    } catch (err) {
      q.reject(err);
    }
  }
}

const shared = new WeakMap<SqlDriver, GroupCommit>();
