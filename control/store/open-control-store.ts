/** @module Opens the store a `--store` value names: the embedded sqlite file by default, or a PostgreSQL database by URL. */
import { openControlDatabase } from "./control-database.ts";
import { PostgresDriver } from "./postgres-driver.ts";
import { migratePostgres } from "./postgres-schema.ts";
import type { SqlDriver } from "./sql-driver.ts";
import { SqliteDriver } from "./sqlite-driver.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

/** True when a `--store` value names a PostgreSQL database rather than a sqlite file. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/**
 * spec is a sqlite path (":memory:" in tests) or a postgres:// / postgresql:// URL. Either way the schema is
 * migrated before the driver is returned, so every store can use it at once. With `checkpointThread` (a serving
 * node), a sqlite file's WAL is checkpointed on a thread of its own (wal-checkpointer.ts), never inside a commit
 * on the event loop; a short-lived command does without, as the thread costs its start and stop.
 */
export async function openControlStore(
  spec: string,
  o: { checkpointThread?: boolean } = {},
): Promise<SqlDriver> {
  if (!isPostgresUrl(spec)) {
    const database = openControlDatabase(spec);
    if (!o.checkpointThread || spec === ":memory:") return new SqliteDriver(database);
    return new SqliteDriver(database, { checkpointer: WalCheckpointer.start(database, spec) });
  }
  const db = new PostgresDriver(spec);
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
