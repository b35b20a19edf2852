/** @module The embedded node's memory of allow-list verdicts, per (callee, caller name), dropped whole on every change to lists, groups or devices. */
import type { SqlDriver } from "./sql-driver.ts";

/** Verdicts kept; past this the memory starts over (a cache, not a copy of the lists). */
const MAX_VERDICTS = 100_000;

/**
 * A verdict depends only on the allow_entries, groups and group_members rows, which only AllowListStore's
 * writes and DeviceStore.remove() (its cascades) change: each calls clear() once its change is stored. A
 * verdict read before a change and answered after it is not kept (the generation moved meanwhile), so a
 * stale "permitted" can never outlive the edit that revoked it.
 *
 * Only a sqlite store is cached: this process is then its only writer of lists (the offline CLI only enrolls
 * and mints tokens). On PostgreSQL other nodes edit lists this one would not hear of, so every verdict is read.
 */
export class PermissionCache {
  readonly #verdicts = new Map<string, boolean>();
  readonly #enabled: boolean;
  #generation = 0;

  private constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  /** The one cache of a store (every store object on one driver shares it, so each write reaches it). */
  static of(db: SqlDriver): PermissionCache {
    let c = shared.get(db);
    if (!c) {
      c = new PermissionCache(db.kind === "sqlite");
      shared.set(db, c);
    }
    return c;
  }

  /** The cached verdict, or else read(), kept if nothing changed while it was read. */
  async verdict(calleeId: string, callerKey: string, read: () => Promise<boolean>): Promise<boolean> {
    if (!this.#enabled) return read();
    const key = `${calleeId} ${callerKey}`;
    const hit = this.#verdicts.get(key);
    if (hit !== undefined) return hit;
    const generation = this.#generation;
    const v = await read();
    if (generation === this.#generation) {
      if (this.#verdicts.size >= MAX_VERDICTS) this.#verdicts.clear();
      this.#verdicts.set(key, v);
    }
    return v;
  }

  /** Forgets every verdict: called after each stored change to lists, groups or devices. */
  clear(): void {
    this.#generation++;
    this.#verdicts.clear();
  }
}

const shared = new WeakMap<SqlDriver, PermissionCache>();
