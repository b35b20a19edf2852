/** @module The one store interface both backends implement: async statements and transactions over SQL written once. */

/** A statement's effect: how many rows it inserted, updated or deleted. */
export interface RunResult {
  changes: number;
}

/** A value a statement may bind: the column types the control stores use. */
export type SqlValue = string | number | null | Uint8Array;

/**
 * Statements on one backend. SQL is written once, in the subset both backends speak: `?` (or `?N`, numbered)
 * placeholders, `INSERT ... ON CONFLICT`, `CAST(x AS TYPE)`; the PostgreSQL driver rewrites the placeholders to
 * `$N`. Integer columns read back as numbers on both backends (ms timestamps and byte counts stay below 2^53).
 */
export interface SqlQueries {
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | null>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** Which backend a driver talks to; stores branch on it only where the dialects truly differ. */
export type StoreKind = "sqlite" | "postgres";

/** A connection (sqlite) or pool (PostgreSQL) with transactions; the stores hold one of these. */
export interface SqlDriver extends SqlQueries {
  readonly kind: StoreKind;
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws (the error is rethrown).
   * Statements inside must go through `tx`, never through the driver itself (which waits for the transaction).
   */
  transaction<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** `await using db = await openControlStore(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** True when err is a unique or primary-key violation, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown; errno?: unknown }).code;
  // PostgreSQL SQLSTATE 23505 unique_violation; sqlite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY.
  if (code === "23505" || (err as { errno?: unknown }).errno === "23505") return true;
  if (typeof code === "string" && /SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/.test(code)) return true;
  return /UNIQUE constraint|duplicate key value/.test(err.message);
}
