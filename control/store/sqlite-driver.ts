/** @module The embedded backend: the SqlDriver interface over one bun:sqlite connection, statements run synchronously underneath. */
import type { Database, Statement } from "bun:sqlite";
import type { RunResult, SqlDriver, SqlQueries, SqlValue } from "./sql-driver.ts";
import type { WalCheckpointer } from "./wal-checkpointer.ts";

/** Prepared statements kept per SQL text; the stores use a few dozen distinct texts. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * bun:sqlite is synchronous, so each statement completes before its promise is returned; the async surface costs
 * one resolved promise. A transaction spans awaits, so while one is open every other statement on the driver
 * waits for it (one connection: a statement slipped in would join, and could be rolled back with, the
 * transaction), and transactions run one at a time. With none open, a statement runs at once.
 *
 * The SELECTs of one event-loop turn share one read transaction, ended after the turn's I/O callbacks
 * (setImmediate) or before any other statement or transaction, whichever comes first. In WAL mode each read
 * transaction takes and drops a read lock on the -shm file, two fcntl(2) calls, and a QUERY reads four rows
 * (caller, callee, registration, identity key): on this paravirtualised machine those calls cost more than the
 * reads. What a read sees is unchanged: this connection is the file's only writer (the checkpoint thread
 * copies, never changes, content), and every write or transaction ends the read transaction before it starts,
 * so a read never sees a snapshot older than this connection's last write.
 */
export class SqliteDriver implements SqlDriver {
  readonly kind = "sqlite" as const;
  /** The connection, for the parts that stay sqlite-only (the filesystem spool's index). */
  readonly database: Database;
  readonly #statements = new Map<string, Statement>();
  #open: Promise<void> | null = null;
  /** A read transaction of this turn is open (see the class comment). */
  #reading = false;
  readonly #endReadSoon = () => this.#endRead();
  readonly #direct: SqlQueries;
  readonly #checkpointer: WalCheckpointer | null;

  /** `checkpointer`, when given, is stopped before the connection closes (open-control-store.ts starts it). */
  constructor(database: Database, o: { checkpointer?: WalCheckpointer } = {}) {
    this.database = database;
    this.#checkpointer = o.checkpointer ?? null;
    this.#direct = {
      get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        (this.#prepare(sql).get(...(params as SqlValue[])) as T | null) ?? null,
      all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        this.#prepare(sql).all(...(params as SqlValue[])) as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) => ({
        changes: this.#prepare(sql).run(...(params as SqlValue[])).changes,
      }),
    };
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | null> {
    const go = () => {
      this.#readIn(sql);
      return this.#direct.get<T>(sql, params);
    };
    return this.#open ? this.#after(go) : go();
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    const go = () => {
      this.#readIn(sql);
      return this.#direct.all<T>(sql, params);
    };
    return this.#open ? this.#after(go) : go();
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult> {
    const go = () => {
      this.#endRead();
      return this.#direct.run(sql, params);
    };
    return this.#open ? this.#after(go) : go();
  }

  async transaction<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
    while (this.#open) await this.#open;
    this.#endRead();
    let release!: () => void;
    this.#open = new Promise((resolve) => {
      release = resolve;
    });
    try {
      // Prepared once, like every statement: BEGIN and COMMIT run twice per QUERY (group-commit.ts).
      this.#prepare("BEGIN").run();
      try {
        const out = await fn(this.#direct);
        this.#prepare("COMMIT").run();
        return out;
      } catch (err) {
        if (this.database.inTransaction) this.database.run("ROLLBACK");
        throw err;
      }
    } finally {
      this.#open = null;
      release();
    }
  }

  async close(): Promise<void> {
    while (this.#open) await this.#open;
    this.#endRead();
    await this.#checkpointer?.stop();
    for (const s of this.#statements.values()) s.finalize();
    this.#statements.clear();
    this.database.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Runs a SELECT inside this turn's read transaction, opening it if none is; anything else (a PRAGMA such as
   * wal_checkpoint, which a transaction would stop) ends it first and runs on its own.
   */
  #readIn(sql: string): void {
    if (!sql.startsWith("SELECT")) {
      this.#endRead();
      return;
    }
    if (this.#reading) return;
    this.#prepare("BEGIN").run();
    this.#reading = true;
    setImmediate(this.#endReadSoon);
  }

  #endRead(): void {
    if (!this.#reading) return;
    this.#reading = false;
    // A read-only transaction: COMMIT only drops its read lock.
    if (this.database.inTransaction) this.#prepare("COMMIT").run();
  }

  async #after<T>(f: () => Promise<T>): Promise<T> {
    while (this.#open) await this.#open;
    return f();
  }

  #prepare(sql: string): Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) {
        // Statements built from varying text (none today) must not grow the cache without bound.
        for (const old of this.#statements.values()) old.finalize();
        this.#statements.clear();
      }
      s = this.database.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }
}
