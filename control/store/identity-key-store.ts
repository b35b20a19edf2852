/** @module The recorders' public X25519 identity keys, which the node hands to the other peer of a session (never the private halves: it never sees them). */
import type { SqlDriver } from "./sql-driver.ts";

/**
 * On sqlite the table is its own migration component ("identity"), so the core schema's versions stay
 * untouched; openControlDatabase applies it. On PostgreSQL it is part of the core schema (postgres-schema.ts).
 */
export const IDENTITY_COMPONENT = "identity";
export const IDENTITY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE device_identity_keys (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    published_at INTEGER NOT NULL
  );
  `,
];

export class IdentityKeyStore {
  readonly #db: SqlDriver;

  constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** Records a device's key (a re-enrolled box may replace it: its peers' pins then refuse it until approved). */
  async publish(deviceId: string, publicKey: string, now = Date.now()): Promise<void> {
    await this.#db.run(
      `INSERT INTO device_identity_keys (device_id, public_key, published_at) VALUES (?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key, published_at = excluded.published_at`,
      [deviceId, publicKey, now],
    );
  }

  async keyOf(deviceId: string): Promise<string | undefined> {
    const row = await this.#db.get<{ public_key: string }>(
      "SELECT public_key FROM device_identity_keys WHERE device_id = ?",
      [deviceId],
    );
    return row?.public_key ?? undefined;
  }
}
