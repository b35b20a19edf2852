/** @module Opens the store a `--store` value names: the embedded sqlite file by default, or a PostgreSQL database by URL. */
import { openControlDatabase } from "./control-database.ts";
import { PostgresDriver } from "./postgres-driver.ts";
import { migratePostgres } from "./postgres-schema.ts";
import type { SqlDriver } from "./sql-driver.ts";
import { SqliteDriver } from "./sqlite-driver.ts";

/** True when a `--store` value names a PostgreSQL database rather than a sqlite file. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/**
 * spec is a sqlite path (":memory:" in tests) or a postgres:// / postgresql:// URL. Either way the schema is
 * migrated before the driver is returned, so every store can use it at once.
 */
export async function openControlStore(spec: string): Promise<SqlDriver> {
  if (!isPostgresUrl(spec)) return new SqliteDriver(openControlDatabase(spec));
  const db = new PostgresDriver(spec);
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
