/** @module Makes deleted one-time passwords and keys leave the node's files: a WAL checkpoint after secure_delete. */
import type { SqlDriver } from "./sql-driver.ts";

/** How long a scrub waits for a checkpoint already running (wal-checkpointer.ts's thread) to finish. */
const BUSY_RETRY_MS = 2000;

/**
 * With `secure_delete` on (control-database.ts), a committed DELETE zeroes the row in its page, but the page
 * images that held the secret stay in control.db-wal until a checkpoint copies the zeroed page home and the
 * WAL is reset. TRUNCATE resets it to zero bytes. Called after a delete of grants commits. A checkpoint that
 * finds another running (the checkpoint thread's) answers busy at once without doing anything, so it is tried
 * again until it runs, for at most BUSY_RETRY_MS; when a reader holds the WAL the checkpoint is partial and the
 * next one finishes it (PRAGMA wal_checkpoint, sqlite.org/pragma.html).
 * On PostgreSQL the files are the database server's, not the node's: their vacuuming is its operator's.
 */
export async function scrubDeletedSecrets(db: SqlDriver): Promise<void> {
  if (db.kind !== "sqlite") return;
  const until = performance.now() + BUSY_RETRY_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    const r = await db.get<{ busy: number }>("PRAGMA wal_checkpoint(TRUNCATE)");
    if (r?.busy !== 1 || performance.now() > until) return;
    await Bun.sleep(wait);
  }
}
