/** @module The cluster backend: the SqlDriver interface over PostgreSQL through Bun's built-in SQL client. */
import { SQL } from "bun";
import type { RunResult, SqlDriver, SqlQueries, SqlValue } from "./sql-driver.ts";

/** Rewrites the shared dialect's `?N` and `?` placeholders to PostgreSQL's `$N`; the SQL texts hold no `?` in literals. */
export function toPostgresPlaceholders(sql: string): string {
  let next = 0;
  return sql.replace(/\?(\d+)?/g, (_m, n: string | undefined) => `$${n ?? ++next}`);
}

/** int8 columns arrive as BigInt (the client's exact mode); every one the stores hold is below 2^53. */
function toNumbers<T>(row: Record<string, unknown>): T {
  for (const k in row) {
    const v = row[k];
    if (typeof v === "bigint") row[k] = Number(v);
  }
  return row as T;
}

type Client = InstanceType<typeof SQL>;

/** Statements plus unparameterised multi-statement scripts (migrations), on the pool or inside a transaction. */
export interface PostgresQueries extends SqlQueries {
  script(sql: string): Promise<void>;
}

function queries(client: Client, texts: Map<string, string>): PostgresQueries {
  const text = (sql: string) => {
    let t = texts.get(sql);
    if (t === undefined) {
      t = toPostgresPlaceholders(sql);
      texts.set(sql, t);
    }
    return t;
  };
  const rows = async (sql: string, params: readonly SqlValue[]) =>
    (await client.unsafe(text(sql), params as SqlValue[])) as Array<Record<string, unknown>> & {
      count: number | null;
    };
  return {
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      const r = await rows(sql, params);
      return r.length > 0 ? toNumbers<T>(r[0]!) : null;
    },
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await rows(sql, params)).map((r) => toNumbers<T>(r));
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
      return { changes: Number((await rows(sql, params)).count ?? 0) };
    },
    async script(sql: string) {
      await client.unsafe(sql).simple();
    },
  };
}

/** A pool of connections to one database; each transaction holds one connection from BEGIN to COMMIT. */
export class PostgresDriver implements SqlDriver {
  readonly kind = "postgres" as const;
  readonly #client: Client;
  readonly #texts = new Map<string, string>();
  readonly #q: PostgresQueries;

  constructor(url: string, o: { maxConnections?: number } = {}) {
    this.#client = new SQL({ url, bigint: true, max: o.maxConnections ?? 10 });
    this.#q = queries(this.#client, this.#texts);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | null> {
    return this.#q.get<T>(sql, params);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#q.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult> {
    return this.#q.run(sql, params);
  }

  transaction<T>(fn: (tx: PostgresQueries) => Promise<T>): Promise<T> {
    return this.#client.begin((tx) => fn(queries(tx as unknown as Client, this.#texts))) as Promise<T>;
  }

  /** Runs a multi-statement script (migrations) without parameters. */
  script(sql: string): Promise<void> {
    return this.#q.script(sql);
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
