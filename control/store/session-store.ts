/** @module Sessions (seed A S1207-S1209, seed B FIG. 4A/4B), their one-time delivery to the callee, the lease, and the accounting log. */
import { generateSessionKeyBytes } from "../../crypto/aead.ts";
import { randomToken, toBase64url } from "../../crypto/random-token.ts";
import type {
  AccountingEntry,
  AdminSession,
  DirectPath,
  SessionGrant,
  SessionMode,
  SessionState,
  SessionStatus,
} from "../../protocol/api-types.ts";
import { ApiError } from "../errors/api-error.ts";
import { GroupCommit } from "./group-commit.ts";
import { scrubDeletedSecrets } from "./scrub-deleted-secrets.ts";
import { isUniqueViolation, type SqlDriver, type SqlQueries } from "./sql-driver.ts";
import { type QueryRetry, supersedeEarlier } from "./superseded-sessions.ts";

/** One-time password length: 16 CSPRNG bytes, 128 bits. */
export const PASSWORD_BYTES = 16;
const SESSION_ID_BYTES = 16;

export interface LeasePolicy {
  durationSec: number;
  connectWindowSec: number;
  extensionSec: number;
  maxExtensions: number;
  maxTotalSec: number;
}

interface SessionRow {
  id: string;
  caller_id: string;
  callee_id: string;
  mode: SessionMode;
  state: SessionState;
  started_at: number;
  connect_by: number;
  expires_at: number;
  duration_sec: number;
  extensions: number;
  end_reason: string | null;
  ended_at: number | null;
  bytes_relay_node: number;
  revoked_at: number | null;
}

/** The peer-facing summary; names come from a join so a renamed or deleted device still reads. */
export interface SessionSummary {
  id: string;
  callerId: string;
  calleeId: string;
  mode: SessionMode;
  state: SessionState;
  /** The node ended it because a peer lost its permission: nothing of it may move any more. */
  revoked?: boolean;
}

/** The end reason of a revoked session, in the accounting log and the `end` trigger. */
export const REVOKED = "revoked";

export class SessionStore {
  readonly #db: SqlDriver;
  readonly #group: GroupCommit;
  readonly #lease: LeasePolicy;
  constructor(db: SqlDriver, lease: LeasePolicy) {
    this.#db = db;
    this.#group = GroupCommit.of(db);
    this.#lease = lease;
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
    const id = `ses_${randomToken(SESSION_ID_BYTES)}`;
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
   * active, marked revoked either way, its undelivered grant deleted whatever the mode, and logged once by "node".
   */
  async revoke(id: string, now = Date.now()): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const r = await this.#row(id, tx, true);
      if (!r || r.revoked_at !== null) return;
      const endedAt = r.state === "active" ? now : (r.ended_at ?? now);
      await tx.run(
        "UPDATE sessions SET state = 'ended', end_reason = coalesce(end_reason, ?), ended_at = ?, revoked_at = ? WHERE id = ?",
        [REVOKED, endedAt, now, id],
      );
      await tx.run("DELETE FROM pending_grants WHERE session_id = ?", [id]);
      await tx.run(
        "INSERT INTO accounting (session_id, reporter, caller_id, callee_id, started_at, ended_at, duration_ms, bytes_direct, bytes_relay, reason) VALUES (?, 'node', ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
        [
          id,
          r.caller_id,
          r.callee_id,
          r.started_at,
          endedAt,
          endedAt - r.started_at,
          r.bytes_relay_node,
          REVOKED,
        ],
      );
    });
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

  /**
   * Records an end: the session becomes ended (if it was not) and reporter's figures go into the accounting
   * log. Each reporter reports once (409 session_ended on a repeat). Returns whether this call ended it.
   */
  async end(
    reporter: string,
    id: string,
    reason: string,
    bytesDirect: number,
    bytesRelay: number,
    now = Date.now(),
  ): Promise<{ endedNow: boolean; summary: SessionSummary }> {
    const ended = await this.#db.transaction(async (tx) => {
      const r = await this.#row(id, tx, true);
      if (!r) throw new ApiError(404, "session_not_found", `Session ${id} not found`);
      const already = await tx.get<{ one: number }>(
        "SELECT 1 AS one FROM accounting WHERE session_id = ? AND reporter = ?",
        [id, reporter],
      );
      if (already) throw new ApiError(409, "session_ended", `Session ${id}: this end was already reported`);
      const endedNow = r.state === "active";
      const checked = checkReportedBytes(bytesDirect, bytesRelay, r.bytes_relay_node);
      const endedAt = endedNow ? now : (r.ended_at ?? now);
      if (endedNow) {
        await tx.run("UPDATE sessions SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ?", [
          reason,
          now,
          id,
        ]);
        // A store session's callee fetches its key only when its load allows, typically after the sender
        // has ended the session; its grant lives until deliver_by (the spool TTL), not until the end.
        if (r.mode !== "store") await tx.run("DELETE FROM pending_grants WHERE session_id = ?", [id]);
      }
      await tx.run(
        "INSERT INTO accounting (session_id, reporter, caller_id, callee_id, started_at, ended_at, duration_ms, bytes_direct, bytes_relay, reason, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
          id,
          reporter,
          r.caller_id,
          r.callee_id,
          r.started_at,
          endedAt,
          endedAt - r.started_at,
          bytesDirect,
          checked.bytesRelay,
          reason,
          checked.note,
        ],
      );
      return {
        endedNow,
        summary: { id, callerId: r.caller_id, calleeId: r.callee_id, mode: r.mode, state: "ended" as const },
      };
    });
    if (ended.endedNow && ended.summary.mode !== "store") await scrubDeletedSecrets(this.#db);
    return ended;
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
        await this.end("node", id, "expired", 0, 0, now);
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

  /** Adds the path that carried a reporter's direct bytes to its accounting entry (after end()). */
  async setDirectPath(id: string, reporter: string, path: DirectPath): Promise<void> {
    await this.#db.run("UPDATE accounting SET direct_path = ? WHERE session_id = ? AND reporter = ?", [
      path,
      id,
      reporter,
    ]);
  }

  /** The accounting log, filtered by device (as caller or callee) and by end time [from, to). */
  accounting(
    q: { device?: string | undefined; from?: number | undefined; to?: number | undefined },
    limit = 1000,
  ): Promise<AccountingEntry[]> {
    const from = q.from ?? 0;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const cols =
      'session_id AS "sessionId", reporter, caller_id AS "callerId", callee_id AS "calleeId", started_at AS "startedAt", ended_at AS "endedAt", duration_ms AS "durationMs", bytes_direct AS "bytesDirect", bytes_relay AS "bytesRelay", reason, note, direct_path AS "directPath"';
    if (q.device !== undefined) {
      return this.#db.all<AccountingEntry>(
        `SELECT ${cols} FROM accounting WHERE (caller_id = ?1 OR callee_id = ?1) AND ended_at >= ?2 AND ended_at < ?3 ORDER BY ended_at, seq LIMIT ?4`,
        [q.device, from, to, limit],
      );
    }
    return this.#db.all<AccountingEntry>(
      `SELECT ${cols} FROM accounting WHERE ended_at >= ? AND ended_at < ? ORDER BY ended_at, seq LIMIT ?`,
      [from, to, limit],
    );
  }

  async activeCount(): Promise<number> {
    return (await this.#db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE state = 'active'"))!
      .n;
  }

  /** forUpdate locks the row on PostgreSQL, so two nodes ending one session at once serialise on it. */
  #row(id: string, q: SqlQueries = this.#db, forUpdate = false): Promise<SessionRow | null> {
    const lock = forUpdate && this.#db.kind === "postgres" ? " FOR UPDATE" : "";
    return q.get<SessionRow>(`SELECT * FROM sessions WHERE id = ?${lock}`, [id]);
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

/**
 * A peer's end report, as far as the node can check it (issue 21 item 4): relay bytes pass through the node, so
 * the logged figure is at most what it carried; direct bytes never do, so they are logged as the reporter's claim.
 */
export function checkReportedBytes(
  bytesDirect: number,
  bytesRelay: number,
  relayCarried: number,
): { bytesRelay: number; note: string | null } {
  const notes: string[] = [];
  const relay = Math.min(bytesRelay, relayCarried);
  if (relay < bytesRelay)
    notes.push(`bytesRelay capped at the ${relayCarried} the node carried (reported ${bytesRelay})`);
  if (bytesDirect > 0)
    notes.push("bytesDirect is the reporter's claim, unverified (the node carries no direct bytes)");
  return { bytesRelay: relay, note: notes.length ? notes.join("; ") : null };
}
