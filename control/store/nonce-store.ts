/** @module The replay guard for signed HTTP requests: every (device, nonce) seen within the clock window, kept in sqlite so a restart does not reopen it. */
import type { Database } from "bun:sqlite";

export class NonceStore {
  private readonly insert;

  constructor(
    private readonly db: Database,
    /** Nonces older than this cannot be replayed anyway (the timestamp check rejects them), so they are pruned. */
    private readonly windowMs: number,
  ) {
    this.insert = db.prepare("INSERT OR IGNORE INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?)");
  }

  /** True the first time (device, nonce) is seen; false on a replay. */
  remember(deviceId: string, nonce: string, now = Date.now()): boolean {
    return this.insert.run(deviceId, nonce, now).changes === 1;
  }

  /** Drops nonces outside twice the window (both clock directions). */
  prune(now = Date.now()): number {
    return this.db.run("DELETE FROM nonces WHERE seen_at < ?", [now - 2 * this.windowMs]).changes;
  }
}
