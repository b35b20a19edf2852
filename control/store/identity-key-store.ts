/** @module The recorders' public X25519 identity keys, which the node hands to the other peer of a session (never the private halves: it never sees them). */
import type { Database } from "bun:sqlite";
import { migrate } from "./control-database.ts";

/** Its own migration component, so the core schema's versions stay untouched. */
const COMPONENT = "identity";
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE device_identity_keys (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    published_at INTEGER NOT NULL
  );
  `,
];

export class IdentityKeyStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    migrate(db, MIGRATIONS, COMPONENT);
  }

  /** Records a device's key (a re-enrolled box may replace it: its peers' pins then refuse it until approved). */
  publish(deviceId: string, publicKey: string, now = Date.now()): void {
    this.#db.run(
      `INSERT INTO device_identity_keys (device_id, public_key, published_at) VALUES (?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, published_at = excluded.published_at`,
      [deviceId, publicKey, now],
    );
  }

  keyOf(deviceId: string): string | undefined {
    return (
      this.#db
        .query<{ public_key: string }, [string]>(
          "SELECT public_key FROM device_identity_keys WHERE device_id = ?",
        )
        .get(deviceId)?.public_key ?? undefined
    );
  }
}
