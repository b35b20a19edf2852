/** @module The replay guard for signed HTTP requests: every (device, nonce) seen within the clock window, kept in sqlite so a restart does not reopen it. */
import type { Database } from "bun:sqlite";
import { isDiskFull } from "./disk-full.ts";

/** Nonces that could not be written (disk full) are kept in memory at most this many per process. */
const MAX_MEMORY_NONCES = 100_000;

export class NonceStore {
  private readonly insert;
  private readonly lookup;
  /** Nonces seen while the database could not write (issue 21 item 2), by "device nonce" -> seen_at. */
  readonly #memory = new Map<string, number>();

  constructor(
    private readonly db: Database,
    /** Nonces older than this cannot be replayed anyway (the timestamp check rejects them), so they are pruned. */
    private readonly windowMs: number,
  ) {
    this.insert = db.prepare("INSERT OR IGNORE INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?)");
    this.lookup = db.prepare("SELECT 1 FROM nonces WHERE device_id = ? AND nonce = ?");
  }

  /**
   * True the first time (device, nonce) is seen; false on a replay. When the disk is full the nonce is kept in
   * memory instead, so signed reads keep working on a full disk; such a nonce does not survive a restart, which
   * only matters for a replay inside the clock window across that restart (docs/security.md).
   */
  remember(deviceId: string, nonce: string, now = Date.now()): boolean {
    const key = `${deviceId} ${nonce}`;
    if (this.#memory.has(key)) return false;
    try {
      return this.insert.run(deviceId, nonce, now).changes === 1;
    } catch (err) {
      if (!isDiskFull(err) || this.#memory.size >= MAX_MEMORY_NONCES) throw err;
      if (this.lookup.get(deviceId, nonce) !== null) return false;
      this.#memory.set(key, now);
      return true;
    }
  }

  /** Drops nonces outside twice the window (both clock directions). */
  prune(now = Date.now()): number {
    for (const [k, at] of this.#memory) if (at < now - 2 * this.windowMs) this.#memory.delete(k);
    return this.db.run("DELETE FROM nonces WHERE seen_at < ?", [now - 2 * this.windowMs]).changes;
  }
}
