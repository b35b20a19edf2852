/** @module Makes deleted one-time passwords and keys leave the node's files: a WAL checkpoint after secure_delete. */
import type { SqlDriver } from "./sql-driver.ts";
import { SqliteDriver } from "./sqlite-driver.ts";

/**
 * With `secure_delete` on (control-database.ts), a committed DELETE zeroes the row in its page, but the page
 * images that held the secret stay in control.db-wal until a checkpoint copies the zeroed page home and the
 * WAL is reset. TRUNCATE resets it to zero bytes. Called after a delete of grants commits. A serving node runs it
 * on its checkpoint thread (SqliteDriver.truncateWal, wal-checkpointer.ts), where a scrub that meets the thread's
 * own checkpoint simply runs after it, and scrubs asked for meanwhile share one; when a reader holds the WAL the
 * checkpoint is partial and the next one finishes it (PRAGMA wal_checkpoint, sqlite.org/pragma.html).
 * On PostgreSQL the files are the database server's, not the node's: their vacuuming is its operator's.
 */
export async function scrubDeletedSecrets(db: SqlDriver): Promise<void> {
  if (db instanceof SqliteDriver) await db.truncateWal();
}
