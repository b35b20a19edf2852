/** @module Devices, their credentials, enrollment tokens and registrations (the address-resolution table, seed A FIG. 7). */
import { createHash } from "node:crypto";
import { randomBytes, randomToken, toBase64url } from "../../crypto/random-token.ts";
import type { AllowPolicy } from "../../protocol/api-types.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import { PermissionCache } from "./permission-cache.ts";
import { isUniqueViolation, type SqlDriver, type SqlQueries } from "./sql-driver.ts";

/** Policy "list" is 'device' in devices.policy plus a list_policy row (control-database.ts, issue 17 item 2). */
const POLICY_COLUMN =
  "CASE WHEN EXISTS (SELECT 1 FROM list_policy l WHERE l.device_id = devices.id) THEN 'list' ELSE policy END AS policy";

/** Device secret length: 32 CSPRNG bytes (256 bits). */
export const SECRET_BYTES = 32;
/** Device ids are "dev_" + 12 CSPRNG bytes base64url (96 bits: unguessable, short enough for a STUN USERNAME). */
export const DEVICE_ID_PREFIX = "dev_";
const DEVICE_ID_BYTES = 12;

/**
 * Device names: 1-64 characters, starting with a letter, digit or "+", then letters, digits and "+._@-",
 * so "+81-90-1234-5678" and "grandma@example.jp" are names; "@" first is reserved for group references.
 */
export const DEVICE_NAME = /^[A-Za-z0-9+][A-Za-z0-9+._@-]{0,63}$/;

/** Names compare case-insensitively: the key is the lower-cased name. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

export function checkDeviceName(name: unknown, field = "name"): string {
  if (typeof name !== "string") throw badRequest(field, "must be a string");
  if (!DEVICE_NAME.test(name))
    throw badRequest(field, "must be 1-64 of A-Z a-z 0-9 + . _ @ - (not starting with @)");
  return name;
}

export interface DeviceRow {
  id: string;
  name: string;
  policy: AllowPolicy;
  createdAt: number;
  /** When the operator disabled it; a disabled device's secret does not authenticate. */
  disabledAt: number | null;
}

export interface Registration {
  address: string;
  port: number;
  at: number;
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Taken names one enrollment token may be told about before it is spent (a typo or two, not a scan). */
export const MAX_NAME_ATTEMPTS = 3;

/** Device records; every method is one statement or one transaction. */

export class DeviceStore {
  readonly #secretCache = new Map<string, Uint8Array>();

  readonly #db: SqlDriver;
  constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** Creates a device with a fresh id and secret; 409 name_taken if the name exists in any case. */
  enroll(name: string, now = Date.now()): Promise<{ id: string; name: string; secret: string }> {
    return this.#enrollIn(this.#db, name, now);
  }

  async #enrollIn(
    q: SqlQueries,
    name: string,
    now: number,
  ): Promise<{ id: string; name: string; secret: string }> {
    checkDeviceName(name);
    const id = DEVICE_ID_PREFIX + randomToken(DEVICE_ID_BYTES);
    const secret = randomBytes(SECRET_BYTES);
    try {
      await q.run("INSERT INTO devices (id, name, name_key, secret, created_at) VALUES (?, ?, ?, ?, ?)", [
        id,
        name,
        nameKey(name),
        secret,
        now,
      ]);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError(409, "name_taken", `Cannot enroll '${name}': the name is taken`);
      }
      throw err;
    }
    return { id, name, secret: toBase64url(secret) };
  }

  /** Inserts many devices in one transaction (bench setup); returns their ids and secrets. */
  async enrollMany(
    names: string[],
    now = Date.now(),
  ): Promise<Array<{ id: string; name: string; secret: Uint8Array }>> {
    const out: Array<{ id: string; name: string; secret: Uint8Array }> = [];
    await this.#db.transaction(async (tx) => {
      for (const name of names) {
        const id = DEVICE_ID_PREFIX + randomToken(DEVICE_ID_BYTES);
        const secret = randomBytes(SECRET_BYTES);
        await tx.run("INSERT INTO devices (id, name, name_key, secret, created_at) VALUES (?, ?, ?, ?, ?)", [
          id,
          name,
          nameKey(name),
          secret,
          now,
        ]);
        out.push({ id, name, secret });
      }
    });
    return out;
  }

  /** The device secret, for MAC verification only; cached because every request and keepalive needs it. */
  async secretOf(id: string): Promise<Uint8Array | null> {
    const hit = this.#secretCache.get(id);
    if (hit) return hit;
    const row = await this.#db.get<{ secret: Uint8Array }>(
      "SELECT secret FROM devices WHERE id = ? AND disabled_at IS NULL",
      [id],
    );
    if (!row) return null;
    const secret = new Uint8Array(row.secret);
    this.#secretCache.set(id, secret);
    return secret;
  }

  /**
   * The cached secret without waiting, for the UDP path, which answers in the datagram's own turn: undefined
   * when this process has not loaded it yet (secretOf loads it). Unknown devices are never cached, so a flood of
   * invented ids cannot grow the cache.
   */
  cachedSecret(id: string): Uint8Array | undefined {
    return this.#secretCache.get(id);
  }

  byId(id: string): Promise<DeviceRow | null> {
    return this.#db.get<DeviceRow>(
      `SELECT id, name, ${POLICY_COLUMN}, created_at AS "createdAt", disabled_at AS "disabledAt" FROM devices WHERE id = ?`,
      [id],
    );
  }

  byName(name: string): Promise<DeviceRow | null> {
    return this.#db.get<DeviceRow>(
      `SELECT id, name, ${POLICY_COLUMN}, created_at AS "createdAt", disabled_at AS "disabledAt" FROM devices WHERE name_key = ?`,
      [nameKey(name)],
    );
  }

  list(): Promise<DeviceRow[]> {
    return this.#db.all<DeviceRow>(
      `SELECT id, name, ${POLICY_COLUMN}, created_at AS "createdAt", disabled_at AS "disabledAt" FROM devices ORDER BY name_key`,
    );
  }

  /** Deletes a device and everything keyed by it; its sessions stay for the accounting log. */
  async remove(id: string): Promise<boolean> {
    this.#secretCache.delete(id);
    const removed = (await this.#db.run("DELETE FROM devices WHERE id = ?", [id])).changes > 0;
    // The removal cascades to the device's list and groups, so to other devices' verdicts.
    PermissionCache.of(this.#db).clear();
    return removed;
  }

  /** Disables (true) or re-enables (false) a device; false when there is no such device. */
  async setDisabled(id: string, disabled: boolean, now = Date.now()): Promise<boolean> {
    this.#secretCache.delete(id);
    const r = await this.#db.run("UPDATE devices SET disabled_at = ? WHERE id = ?", [
      disabled ? now : null,
      id,
    ]);
    return r.changes > 0;
  }

  /** Renames a device; 409 name_taken if another device has the name in any case. */
  async rename(id: string, name: string): Promise<boolean> {
    checkDeviceName(name);
    try {
      const r = await this.#db.run("UPDATE devices SET name = ?, name_key = ? WHERE id = ?", [
        name,
        nameKey(name),
        id,
      ]);
      return r.changes > 0;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError(409, "name_taken", `Cannot rename to '${name}': the name is taken`);
      }
      throw err;
    }
  }

  /** Latest registration wins (dynamic IPs). */
  async register(id: string, address: string, port: number, now = Date.now()): Promise<void> {
    await this.#db.run(
      "INSERT INTO registrations (device_id, address, port, at) VALUES (?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET address = excluded.address, port = excluded.port, at = excluded.at",
      [id, address, port, now],
    );
  }

  registration(id: string): Promise<Registration | null> {
    return this.#db.get<Registration>("SELECT address, port, at FROM registrations WHERE device_id = ?", [
      id,
    ]);
  }

  /** A one-time enrollment token; only its SHA-256 is stored, so a database leak does not leak live tokens. */
  async createEnrollmentToken(
    ttlSec: number,
    now = Date.now(),
  ): Promise<{ token: string; expiresAt: number }> {
    const token = `enr_${randomToken(24)}`;
    const expiresAt = now + ttlSec * 1000;
    await this.#db.run("INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES (?, ?)", [
      hashToken(token),
      expiresAt,
    ]);
    return { token, expiresAt };
  }

  /** Redeems a token once: enrolls name and marks the token used, in one transaction. */
  async redeemEnrollmentToken(
    token: string,
    name: string,
    now = Date.now(),
  ): Promise<{ id: string; name: string; secret: string }> {
    checkDeviceName(name);
    const hash = hashToken(token);
    try {
      return await this.#db.transaction(async (tx) => {
        // FOR UPDATE on PostgreSQL: two nodes redeeming one token at once serialise here (sqlite has one writer).
        const row = await tx.get<{ expires_at: number; used_by: string | null; name_attempts: number }>(
          `SELECT expires_at, used_by, name_attempts FROM enrollment_tokens WHERE token_hash = ?${this.#forUpdate}`,
          [hash],
        );
        if (!row || row.used_by !== null || row.expires_at <= now || row.name_attempts >= MAX_NAME_ATTEMPTS) {
          throw new ApiError(401, "invalid_token", "Cannot enroll: the token is unknown, used or expired");
        }
        const cred = await this.#enrollIn(tx, name, now);
        await tx.run("UPDATE enrollment_tokens SET used_by = ? WHERE token_hash = ?", [cred.id, hash]);
        return cred;
      });
    } catch (err) {
      // Issue 21 item 10: each name_taken answer uses up one of the token's few tries, so one token is no
      // oracle for which names exist; the update runs after the rollback so it sticks.
      if (err instanceof ApiError && err.code === "name_taken") {
        await this.#db.run(
          "UPDATE enrollment_tokens SET name_attempts = name_attempts + 1 WHERE token_hash = ?",
          [hash],
        );
      }
      throw err;
    }
  }

  async setPolicy(id: string, policy: AllowPolicy): Promise<void> {
    await this.#db.run("UPDATE devices SET policy = ? WHERE id = ?", [policy, id]);
  }

  async count(): Promise<number> {
    return (await this.#db.get<{ n: number }>("SELECT count(*) AS n FROM devices"))!.n;
  }

  /** The ids of the disabled devices: few, whatever the number enrolled. */
  async disabledIds(): Promise<Set<string>> {
    const rows = await this.#db.all<{ id: string }>("SELECT id FROM devices WHERE disabled_at IS NOT NULL");
    return new Set(rows.map((r) => r.id));
  }

  /** Row locks where the backend has them; sqlite's single writer already serialises the transaction. */
  get #forUpdate(): string {
    return this.#db.kind === "postgres" ? " FOR UPDATE" : "";
  }
}
