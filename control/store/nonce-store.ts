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

/**
 * What a sqlite node knows of its nonces: every (device, nonce) of the window by "device nonce" -> seen_at, in the
 * order seen, and how many of them are in memory only (a full disk). One per driver: every NonceStore on one
 * connection shares it, as they share the rows.
 */
interface SeenNonces {
  seen: Map<string, number>;
  volatile: number;
  /** The window's rows read back from nonce_log once, before the first answer. */
  loaded: Promise<void>;
}

const seenByDriver = new WeakMap<SqlDriver, SeenNonces>();

/** A nonce taken by NonceStore.take(): the request it guards may go on; its answer waits for stored(). */
export interface NonceClaim {
  /** Settles once the nonce is in the store (or, on a full disk, kept in memory); rejects when it cannot be kept. */
  stored(): Promise<void>;
}

const STORED: NonceClaim = { stored: () => Promise.resolve() };

/**
 * Two layouts, one contract (a nonce is refused if seen within twice the window, and stored before it counts):
 *
 * - **sqlite**: this process is the file's only server (a split role needs PostgreSQL), so the replay check is a
 *   map in memory, loaded from the store when the node starts, and the store is a log in arrival order: nonce_log
 *   has no key but its rowid and one index on seen_at, so each insert lands on the last page of both, shared by
 *   every nonce of a commit. A primary key on (device, nonce) put each nonce on a random page of its own, written
 *   by the commit and again by the checkpoint: a third of a signed request's CPU on the bench.
 * - **PostgreSQL**: nodes of a cluster share the table, so the primary key on (device_id, nonce) is the check, as
 *   it must be when another node may have seen the nonce.
 */
export class NonceStore {
  /** PostgreSQL only: nonces seen while the database could not write (issue 21 item 2), by "device nonce" -> seen_at. */
  readonly #memory = new Map<string, number>();
  readonly #db: SqlDriver;
  readonly #group: GroupCommit;
  readonly #windowMs: number;
  readonly #local: SeenNonces | null;
  constructor(
    db: SqlDriver,
    /** Nonces older than this cannot be replayed anyway (the timestamp check rejects them), so they are pruned. */
    windowMs: number,
  ) {
    this.#db = db;
    this.#group = GroupCommit.of(db);
    this.#windowMs = windowMs;
    this.#local = db.kind === "sqlite" ? NonceStore.#seenOf(db) : null;
  }

  static #seenOf(db: SqlDriver): SeenNonces {
    let s = seenByDriver.get(db);
    if (!s) {
      const seen = new Map<string, number>();
      // Every row still in the log: prune() removes what is past twice the window, so nothing older is here long.
      const loaded = db
        .all<{ device_id: string; nonce: string; seen_at: number }>(
          "SELECT device_id, nonce, seen_at FROM nonce_log ORDER BY rowid",
        )
        .then((rows) => {
          for (const r of rows) seen.set(`${r.device_id} ${r.nonce}`, r.seen_at);
        });
      // A failed load fails every remember() (a 500), never the process: the rejection is handled there.
      loaded.catch(() => {});
      s = { seen, volatile: 0, loaded };
      seenByDriver.set(db, s);
    }
    return s;
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
    const claim = await this.take(deviceId, nonce, now);
    if (claim === null) return false;
    await claim.stored();
    return true;
  }

  /**
   * remember() in two steps: null on a replay, otherwise the nonce is taken at once (a copy arriving now or later
   * is refused) and `stored()` settles once it is in the store. On sqlite its row waits for the next shared
   * commit without starting one, so the write of the request it guards (a QUERY's session) carries it; stored()
   * starts that commit if nothing else has. Whoever takes a nonce must await stored() before anything the request
   * did is answered: only then does a restart still refuse it (device-auth.ts does, after the route ran).
   * PostgreSQL's check is the insert itself, so there the nonce is stored before take() answers.
   */
  async take(deviceId: string, nonce: string, now = Date.now()): Promise<NonceClaim | null> {
    const key = `${deviceId} ${nonce}`;
    if (!this.#local) return (await this.#rememberShared(key, deviceId, nonce, now)) ? STORED : null;
    const local = this.#local;
    await local.loaded;
    // Checked and taken in one synchronous step: a copy arriving while this one is being stored is refused.
    if (local.seen.has(key)) return null;
    local.seen.set(key, now);
    const row = this.#group.later((tx) =>
      tx.run("INSERT INTO nonce_log (seen_at, device_id, nonce) VALUES (?, ?, ?)", [now, deviceId, nonce]),
    );
    let stored: Promise<void> | null = null;
    return {
      stored: () => {
        stored ??= row.commit().then(
          () => {},
          (err: unknown) => {
            // Kept in memory either way: a nonce once offered is never accepted again by this process.
            if (!isDiskFull(err) || local.volatile >= MAX_MEMORY_NONCES) throw err;
            local.volatile++;
          },
        );
        return stored;
      },
    };
  }

  async #rememberShared(key: string, deviceId: string, nonce: string, now: number): Promise<boolean> {
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
    if (this.#local) {
      await this.#local.loaded;
      // The map is in the order seen, which is the clock's: stop at the first nonce inside the window. After the
      // clock stepped back, an older nonce behind a newer one stays until that one ages out: refused a while
      // longer, which the timestamp check does anyway.
      for (const [k, at] of this.#local.seen) {
        if (at >= before) break;
        this.#local.seen.delete(k);
      }
      // A nonce of a full disk is in memory only; the count is a bound, so start it over once the memory is pruned.
      this.#local.volatile = 0;
    }
    const sql = this.#local
      ? "DELETE FROM nonce_log WHERE rowid IN (SELECT rowid FROM nonce_log WHERE seen_at < ? LIMIT ?)"
      : "DELETE FROM nonces WHERE (device_id, nonce) IN (SELECT device_id, nonce FROM nonces WHERE seen_at < ? LIMIT ?)";
    let dropped = 0;
    for (;;) {
      const { changes } = await this.#db.run(sql, [before, PRUNE_BATCH]);
      dropped += changes;
      if (changes < PRUNE_BATCH) return dropped;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
