/** @module Runs store-level tests on both backends: `describe.each(STORE_BACKENDS)` plus `storeBackend(kind)` for fresh stores. */
import { afterAll, afterEach, beforeAll } from "bun:test";
import { openControlStore } from "../../control/store/open-control-store.ts";
import type { SqlDriver, StoreKind } from "../../control/store/sql-driver.ts";
import { PostgresServer } from "./postgres-server.ts";

/** Both backends, for `describe.each`. */
export const STORE_BACKENDS: readonly StoreKind[] = ["sqlite", "postgres"];

export interface StoreBackend {
  readonly kind: StoreKind;
  /** A migrated, empty store of this kind, closed after the test. */
  open(): Promise<SqlDriver>;
  /** The spec `openControlStore` and `--store` take for a fresh store: a sqlite path, or a postgres:// URL. */
  freshSpec(sqlitePath: string): Promise<string>;
}

/**
 * Call inside a describe: for "postgres" it starts one throwaway cluster for the describe (beforeAll) and
 * stops it after (afterAll); every open() is a database of its own. For "sqlite", open() is ":memory:".
 */
export function storeBackend(kind: StoreKind): StoreBackend {
  let server: PostgresServer | null = null;
  const opened: SqlDriver[] = [];
  if (kind === "postgres") {
    beforeAll(async () => {
      server = await PostgresServer.start();
    }, 60_000);
    afterAll(async () => {
      await server?.[Symbol.asyncDispose]();
    });
  }
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
  });
  const freshSpec = async (sqlitePath: string) => {
    if (kind === "sqlite") return sqlitePath;
    if (!server) throw new Error("Cannot open a PostgreSQL store: the test server did not start");
    return server.freshDatabase();
  };
  return {
    kind,
    freshSpec,
    async open() {
      const db = await openControlStore(await freshSpec(":memory:"));
      opened.push(db);
      return db;
    },
  };
}

/** The `store` a node process is started with on this backend: undefined (its own sqlite file) or a fresh URL. */
export async function nodeStore(backend: StoreBackend): Promise<string | undefined> {
  return backend.kind === "sqlite" ? undefined : backend.freshSpec("");
}
