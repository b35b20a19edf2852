/** @module Sessions (seed A S1207-S1209, seed B FIG. 4A/4B), their one-time delivery to the callee, the lease, and their ends (logged by accounting-store.ts). */
import { generateSessionKeyBytes } from "../../crypto/aead.ts";
import { randomToken, toBase64url } from "../../crypto/random-token.ts";
import type {
  AccountingEntry,
  AdminSession,
  SessionGrant,
  SessionMode,
  SessionState,
  SessionStatus,
} from "../../protocol/api-types.ts";
import { ApiError } from "../errors/api-error.ts";
import { AccountingStore } from "./accounting-store.ts";
import { GroupCommit } from "./group-commit.ts";
import { scrubDeletedSecrets } from "./scrub-deleted-secrets.ts";
import { endSession, revokeSession, type SessionEndReport } from "./session-ends.ts";
import { type SessionRow, type SessionSummary, selectSession } from "./session-row.ts";
import { isUniqueViolation, type SqlDriver, type SqlQueries } from "./sql-driver.ts";
import { type QueryRetry, supersedeEarlier } from "./superseded-sessions.ts";

/** One-time password length: 16 CSPRNG bytes, 128 bits. */
export const PASSWORD_BYTES = 16;
const SESSION_ID_BYTES = 16;
/** Base-36 digits of the issue time (Unix ms) at the front of a session id: 9 hold every ms up to the year 5188. */
const SESSION_TIME_DIGITS = 9;

/**
 * "ses_" + the issue time (base 36, fixed width, so ids sort by it) + 16 CSPRNG bytes. The random part alone makes
 * an id unguessable (128 bits); the time in front makes each new id land at the end of the indexes keyed by it
 * (sessions' primary key, pending_grants'), so the sessions issued in one commit share their index pages instead of
 * each dirtying a page of its own at a random place: a commit writes, and a checkpoint copies, a few pages rather
 * than one per session per index. The time tells an id's holders (the session's two peers) nothing they did not
 * know: when the session was issued.
 */
export function newSessionId(now: number): string {
  const time = Math.max(0, Math.trunc(now)).toString(36).padStart(SESSION_TIME_DIGITS, "0");
  return `ses_${time}${randomToken(SESSION_ID_BYTES)}`;
}

export interface LeasePolicy {
  durationSec: number;
  connectWindowSec: number;
  extensionSec: number;
  maxExtensions: number;
  maxTotalSec: number;
}

export { REVOKED } from "./session-ends.ts";
export type { SessionSummary } from "./session-row.ts";

export class SessionStore {
  readonly #db: SqlDriver;
  readonly #group: GroupCommit;
  readonly #lease: LeasePolicy;
  readonly #accounting: AccountingStore;
  constructor(db: SqlDriver, lease: LeasePolicy) {
    this.#db = db;
    this.#group = GroupCommit.of(db);
    this.#lease = lease;
    this.#accounting = new AccountingStore(db);
  }

  /**
   * Issues a session: id, one-time password and a 256-bit key, all from the CSPRNG. The caller's copy is
   * returned; the callee's copy waits in pending_grants until fetched once (or until deliverBy), after
   * which the node keeps neither password nor key.
   */
  async issue(
    callerId: string,
    calleeId: string,
    mode: SessionMode,
    deliverWithinSec: number,
    now = Date.now(),
  ): Promise<SessionGrant> {
    return (await this.issueOnce({ callerId, calleeId, mode, deliverWithinSec, now })).grant;
  }

  /**
   * issue() for a QUERY that may be a retry: with `retry`, an earlier active session of the same key is ended as
   * superseded in the same transaction (superseded-sessions.ts), so the caller holds exactly one live session.
   * Two attempts committing at once meet at the one-active-per-key index; the loser runs again and sees the other.
   */
  async issueOnce(o: {
    callerId: string;
    calleeId: string;
    mode: SessionMode;
    deliverWithinSec: number;
    now?: number;
    retry?: QueryRetry | null;
  }): Promise<{ grant: SessionGrant; superseded: string[] }> {
    const now = o.now ?? Date.now();
    const { callerId, calleeId, mode } = o;
    const id = newSessionId(now);
    const password = randomToken(PASSWORD_BYTES);
    // Seed A variation 9: a second, independent password the callee proves to the caller.
    const calleePassword = randomToken(PASSWORD_BYTES);
    const key = toBase64url(generateSessionKeyBytes());
    const duration = this.#lease.durationSec;
    const connectBy = now + this.#lease.connectWindowSec * 1000;
    const expiresAt = now + duration * 1000;
    const deliverBy = Math.max(connectBy, now + o.deliverWithinSec * 1000);
    const retry = o.retry ?? null;
    for (let attempt = 0; ; attempt++) {
      try {
        // Sessions issued in one turn share a commit (group-commit.ts); each grant is answered once stored.
        const superseded = await this.#group.run(async (tx) => {
          const gone = retry ? await supersedeEarlier(tx, { callerId, retry, now }) : [];
          await tx.run(
            "INSERT INTO sessions (id, caller_id, callee_id, mode, state, started_at, connect_by, expires_at, duration_sec, idempotency_key, query_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)",
            [
              id,
              callerId,
              calleeId,
              mode,
              now,
              connectBy,
              expiresAt,
              duration,
              retry?.key ?? null,
              retry?.queryAt ?? null,
            ],
          );
          await tx.run(
            "INSERT INTO pending_grants (session_id, device_id, password, key, deliver_by, callee_password) VALUES (?, ?, ?, ?, ?, ?)",
            [id, calleeId, password, key, deliverBy, calleePassword],
          );
          return gone;
        });
        return {
          grant: { id, password, key, duration, expiresAt, connectBy, mode, calleePassword },
          superseded,
        };
      } catch (err) {
        if (retry === null || attempt >= 2 || !isUniqueViolation(err)) throw err;
      }
    }
  }

  /** Hands out, and deletes in the same transaction, every grant waiting for deviceId. */
  async takePending(deviceId: string, now = Date.now()): Promise<Array<SessionGrant & { callerId: string }>> {
    let scrubbed = false;
    const grants = await this.#db.transaction(async (tx) => {
      // Deleted first and returned, so two nodes answering the same device at once hand each grant out once.
      const taken = await tx.all<{
        session_id: string;
        password: string;
        key: string;
        deliver_by: number;
        callee_password: string | null;
      }>(
        "DELETE FROM pending_grants WHERE device_id = ? RETURNING session_id, password, key, deliver_by, callee_password",
        [deviceId],
      );
      if (taken.length > 0) scrubbed = true;
      const live = taken.filter((t) => t.deliver_by > now);
      const rows: Array<SessionRow & { password: string; key: string; callee_password: string | null }> = [];
      for (const t of live) {
        const r = await this.#row(t.session_id, tx);
        if (r && (r.state === "active" || r.mode === "store"))
          rows.push({ ...r, password: t.password, key: t.key, callee_password: t.callee_password });
      }
      rows.sort((a, b) => a.started_at - b.started_at);
      return rows.map((r) => ({
        id: r.id,
        password: r.password,
        key: r.key,
        duration: r.duration_sec,
        expiresAt: r.expires_at,
        connectBy: r.connect_by,
        mode: r.mode,
        ...(r.callee_password !== null ? { calleePassword: r.callee_password } : {}),
        callerId: r.caller_id,
      }));
    });
    if (scrubbed) await scrubDeletedSecrets(this.#db);
    return grants;
  }

  async get(id: string): Promise<SessionSummary | null> {
    const r = await this.#row(id);
    return r
      ? {
          id: r.id,
          callerId: r.caller_id,
          calleeId: r.callee_id,
          mode: r.mode,
          state: r.state,
          revoked: r.revoked_at !== null,
        }
      : null;
  }

  /**
   * The sessions a revocation may still have to stop: active ones, and store sessions ended after storeSince
   * (their data may still wait in the spool). `involving` is "callee" (a list edit) or "either" (a device removed).
   */
  async live(
    deviceId: string,
    involving: "callee" | "either",
    storeSince: number,
  ): Promise<SessionSummary[]> {
    const who = involving === "callee" ? "callee_id = ?1" : "(caller_id = ?1 OR callee_id = ?1)";
    return (
      await this.#db.all<SessionRow>(
        `SELECT * FROM sessions WHERE ${who} AND revoked_at IS NULL
           AND (state = 'active' OR (mode = 'store' AND ended_at > ?2))`,
        [deviceId, storeSince],
      )
    ).map((r) => ({ id: r.id, callerId: r.caller_id, calleeId: r.callee_id, mode: r.mode, state: r.state }));
  }

  /**
   * Ends a session because a peer lost its permission (issue 21 item 3): ended with reason "revoked" if it was
   * active, marked revoked either way, its undelivered grant deleted whatever the mode (session-ends.ts).
   */
  revoke(id: string, now = Date.now()): Promise<void> {
    return revokeSession(this.#db, id, now);
  }

  /** A session as one of its peers may see it; anyone else gets 404, so ids cannot be probed. */
  async statusFor(deviceId: string, id: string): Promise<SessionStatus> {
    const r = await this.#peerRow(deviceId, id);
    return this.#toStatus(r);
  }

  /**
   * Grants an extension under the lease policy, or 409 extension_refused: at most maxExtensions, and the
   * total lease never above maxTotalSec (a partial extension up to that cap is granted).
   */
  extend(
    deviceId: string,
    id: string,
    now = Date.now(),
  ): Promise<{ expiresAt: number; duration: number; extensions: number }> {
    return this.#db.transaction(async (tx) => {
      const r = await this.#peerRow(deviceId, id, tx);
      if (r.state !== "active" || r.expires_at <= now) {
        throw new ApiError(409, "extension_refused", "Cannot extend: the session has ended");
      }
      if (r.extensions >= this.#lease.maxExtensions) {
        throw new ApiError(
          409,
          "extension_refused",
          `Cannot extend: ${r.extensions} extensions is the maximum`,
        );
      }
      const room = this.#lease.maxTotalSec - r.duration_sec;
      const add = Math.min(this.#lease.extensionSec, room);
      if (add <= 0) {
        throw new ApiError(
          409,
          "extension_refused",
          `Cannot extend: ${r.duration_sec} s is the maximum total`,
        );
      }
      const duration = r.duration_sec + add;
      const expiresAt = r.started_at + duration * 1000;
      await tx.run(
        "UPDATE sessions SET duration_sec = ?, expires_at = ?, extensions = extensions + 1 WHERE id = ?",
        [duration, expiresAt, id],
      );
      return { expiresAt, duration, extensions: r.extensions + 1 };
    });
  }

  /** Records an end by a peer, "admin" or "node", and logs it (session-ends.ts). */
  end(id: string, e: SessionEndReport): Promise<{ endedNow: boolean; summary: SessionSummary }> {
    return endSession(this.#db, id, e);
  }

  /** Ends active sessions whose lease ran out (reporter "node", reason "expired") and drops undelivered grants. */
  async sweep(now = Date.now()): Promise<string[]> {
    const expired = (
      await this.#db.all<{ id: string }>(
        "SELECT id FROM sessions WHERE state = 'active' AND expires_at <= ?",
        [now],
      )
    ).map((r) => r.id);
    const ended: string[] = [];
    for (const id of expired) {
      try {
        await this.end(id, { reporter: "node", reason: "expired", now });
        ended.push(id);
      } catch (err) {
        // Another node of a cluster swept it first, or a peer ended it meanwhile: it is ended either way.
        if (!(err instanceof ApiError)) throw err;
      }
    }
    const dropped = (await this.#db.run("DELETE FROM pending_grants WHERE deliver_by <= ?", [now])).changes;
    if (dropped > 0) await scrubDeletedSecrets(this.#db);
    return ended;
  }

  /** Relay accounting: bytes the node carried for this session. */
  async addRelayBytes(id: string, bytes: number): Promise<void> {
    await this.#db.run("UPDATE sessions SET bytes_relay_node = bytes_relay_node + ? WHERE id = ?", [
      bytes,
      id,
    ]);
  }

  async listForAdmin(state?: SessionState, limit = 500): Promise<AdminSession[]> {
    const rows = state
      ? await this.#db.all<SessionRow>(
          "SELECT * FROM sessions WHERE state = ? ORDER BY started_at DESC LIMIT ?",
          [state, limit],
        )
      : await this.#db.all<SessionRow>("SELECT * FROM sessions ORDER BY started_at DESC LIMIT ?", [limit]);
    const out: AdminSession[] = [];
    for (const r of rows) out.push({ ...(await this.#toStatus(r)), bytesRelayNode: r.bytes_relay_node });
    return out;
  }

  /** The accounting log, filtered by device (as caller or callee) and by end time [from, to). */
  accounting(
    q: { device?: string | undefined; from?: number | undefined; to?: number | undefined },
    limit = 1000,
  ): Promise<AccountingEntry[]> {
    return this.#accounting.list(q, limit);
  }

  async activeCount(): Promise<number> {
    return (await this.#db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE state = 'active'"))!
      .n;
  }

  /** forUpdate locks the row on PostgreSQL, so two nodes ending one session at once serialise on it. */
  #row(id: string, q: SqlQueries = this.#db, forUpdate = false): Promise<SessionRow | null> {
    return selectSession(q, id, forUpdate ? this.#db.kind : null);
  }

  async #peerRow(deviceId: string, id: string, q: SqlQueries = this.#db): Promise<SessionRow> {
    const r = await this.#row(id, q, q !== this.#db);
    if (!r || (r.caller_id !== deviceId && r.callee_id !== deviceId)) {
      throw new ApiError(404, "session_not_found", `Session ${id} not found`);
    }
    return r;
  }

  async #toStatus(r: SessionRow): Promise<SessionStatus> {
    const names = await this.#db.all<{ id: string; name: string }>(
      "SELECT id, name FROM devices WHERE id IN (?, ?)",
      [r.caller_id, r.callee_id],
    );
    const nameOf = (id: string) => names.find((n) => n.id === id)?.name ?? "(deleted)";
    return {
      id: r.id,
      mode: r.mode,
      state: r.state,
      reason: r.end_reason,
      startedAt: r.started_at,
      expiresAt: r.expires_at,
      duration: r.duration_sec,
      extensions: r.extensions,
      caller: { id: r.caller_id, name: nameOf(r.caller_id) },
      callee: { id: r.callee_id, name: nameOf(r.callee_id) },
    };
  }
}
