/** @module The replay guard for signed HTTP requests: every (device, nonce) seen within the clock window, kept in the store so a restart does not reopen it, written in group commits. */
import { isDiskFull } from "./disk-full.ts";
import { GroupCommit } from "./group-commit.ts";
import type { SqlDriver } from "./sql-driver.ts";

/** Nonces that could not be written (disk full) are kept in memory at most this many per process. */
const MAX_MEMORY_NONCES = 100_000;
/**
 * Nonces deleted per statement when pruning, the event loop free between statements. One statement for all of
 * them held a sqlite node's loop for as long as the delete took: at 1,000 signed requests/s, 15,000 rows and
 * their index entries, zeroed by secure_delete, every 15 s.
 */
export const PRUNE_BATCH = 1000;

export class NonceStore {
  /** Nonces seen while the database could not write (issue 21 item 2), by "device nonce" -> seen_at. */
  readonly #memory = new Map<string, number>();
  readonly #db: SqlDriver;
  readonly #group: GroupCommit;
  readonly #windowMs: number;
  constructor(
    db: SqlDriver,
    /** Nonces older than this cannot be replayed anyway (the timestamp check rejects them), so they are pruned. */
    windowMs: number,
  ) {
    this.#db = db;
    this.#group = GroupCommit.of(db);
    this.#windowMs = windowMs;
  }

  /**
   * True the first time (device, nonce) is seen; false on a replay. The answer comes once the nonce is stored:
   * the nonces of one turn of the event loop share one commit (group-commit.ts), so a busy node pays one store
   * commit per turn, not one per request, and a nonce is still stored before the request it guards goes on.
   * When the disk is full the nonce is kept in memory instead, so signed reads keep working on a full disk; such
   * a nonce does not survive a restart, which only matters for a replay inside the clock window across that
   * restart (docs/security.md).
   */
  async remember(deviceId: string, nonce: string, now = Date.now()): Promise<boolean> {
    const key = `${deviceId} ${nonce}`;
    if (this.#memory.has(key)) return false;
    try {
      const r = await this.#group.run((tx) =>
        tx.run("INSERT INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [
          deviceId,
          nonce,
          now,
        ]),
      );
      return r.changes === 1;
    } catch (err) {
      if (!isDiskFull(err) || this.#memory.size >= MAX_MEMORY_NONCES) throw err;
      if (this.#memory.has(key)) return false;
      const seen = await this.#db.get("SELECT 1 AS one FROM nonces WHERE device_id = ? AND nonce = ?", [
        deviceId,
        nonce,
      ]);
      if (seen !== null) return false;
      this.#memory.set(key, now);
      return true;
    }
  }

  /** Drops nonces outside twice the window (both clock directions), PRUNE_BATCH rows per statement. */
  async prune(now = Date.now()): Promise<number> {
    const before = now - 2 * this.#windowMs;
    for (const [k, at] of this.#memory) if (at < before) this.#memory.delete(k);
    let dropped = 0;
    for (;;) {
      const { changes } = await this.#db.run(
        "DELETE FROM nonces WHERE (device_id, nonce) IN (SELECT device_id, nonce FROM nonces WHERE seen_at < ? LIMIT ?)",
        [before, PRUNE_BATCH],
      );
      dropped += changes;
      if (changes < PRUNE_BATCH) return dropped;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
