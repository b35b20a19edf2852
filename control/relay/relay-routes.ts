/** @module HTTP routes of the relay and store-and-forward spool: transfer, streamed upload/download, complete, ack, inbox. */
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type Context, Hono } from "hono";
import { ApiError } from "../errors/api-error.ts";
import { abandonedTransfers } from "../spool/abandoned-transfers.ts";
import { noSpaceError, SpoolCapacity } from "../spool/spool-capacity.ts";
import { followFile } from "../spool/spool-download.ts";
import { type SpoolEntry, SpoolStore, type TransferKind } from "../spool/spool-store.ts";
import { appendStream } from "../spool/spool-upload.ts";
import { idOf, offsetParam, positiveInt, readJsonObject, transferInfo } from "./relay-request.ts";

/** The session as the relay needs it; supplied by the session store. */
export interface RelaySession {
  id: string;
  callerId: string;
  calleeId: string;
  mode: "live" | "store";
  state: "active" | "ended";
  /** Ended by the node because a peer lost its permission: its transfers are refused and dropped. */
  revoked?: boolean;
}

export interface RelayDeps {
  db: Database;
  spoolDir: string;
  /** Largest transfer accepted (413 transfer_too_large above it). */
  thresholdBytes: number;
  /** Per sending device: declared bytes of its transfers still on the node (507 quota_exceeded above it). */
  quotaBytes: number;
  /** Lifetime of a transfer from its creation; expired entries are invisible and swept. */
  ttlSec: number;
  /** Node-wide spool cap and free-space reserve (control/spool/spool-capacity.ts); unbounded when absent. */
  capacity?: { capBytes: number; reserveBytes: number; freeBytes?: (dir: string) => number };
  getSession(sessionId: string): RelaySession | null;
  /** Fire-and-forget trigger to the recipient. */
  notify(deviceId: string, kind: "data", ref: Record<string, unknown>): void;
  /** Accounting: bytes durably received for a session. */
  onBytes(sessionId: string, bytes: number): void;
  /** Optional: the sender's name for inbox entries (null if unknown). */
  deviceName?: (deviceId: string) => string | null;
  /** Optional tuning, for tests: durable checkpoint period inside one PUT, idle end of a live download. */
  syncEveryBytes?: number;
  followIdleMs?: number;
  log?: (msg: string) => void;
  now?: () => number;
}

type RelayEnv = { Variables: { deviceId: string } };

const MAX_LABEL_CHARS = 200;
/** Expired entries are swept at most this often, on the back of requests. */
const SWEEP_EVERY_MS = 5000;
const DEFAULT_FOLLOW_IDLE_MS = 30_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Routes mounted under /v1 after the device auth middleware (which sets c.get("deviceId")). Only a session's
 * caller uploads; only its callee downloads and acknowledges; both may read the transfer's state.
 */
export function createRelayRoutes(deps: RelayDeps): Hono<RelayEnv> {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const store = new SpoolStore(deps.db, deps.spoolDir, log);
  const capacity = deps.capacity ? new SpoolCapacity(deps.db, deps.spoolDir, deps.capacity) : null;
  const recovered = store.recover();
  if (recovered.orphans || recovered.shortened) {
    log(`spool: removed ${recovered.orphans} orphan files, shortened ${recovered.shortened} entries`);
  }
  /** Uploads in progress in this process, with bytes written so far (not yet durable) for live followers. */
  const uploading = new Map<string, { written: number }>();
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const f of set) f();
  };
  let lastSweep = 0;
  const sweep = () => {
    const t = now();
    if (t - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = t;
    for (const id of store.sweepExpired(t, new Set(uploading.keys()))) {
      log(`spool: ${id} expired`);
      wake(id);
    }
    const sessionActive = (sessionId: string) => deps.getSession(sessionId)?.state === "active";
    for (const id of abandonedTransfers(deps.db, t, { sessionActive, busy: new Set(uploading.keys()) })) {
      store.remove(id);
      log(`spool: ${id} abandoned (incomplete, session over); its reservation is freed`);
      wake(id);
    }
  };
  sweep();

  const entryFor = (id: string, deviceId: string, role: "sender" | "recipient" | "either"): SpoolEntry => {
    const e = store.get(id, now());
    if (e && deps.getSession(e.sessionId)?.revoked) {
      // Issue 21 item 3: a revoked session's data goes, whoever asks, and frees its quota at once.
      store.remove(id);
      wake(id);
      log(`spool: ${id} dropped (session revoked)`);
    }
    if (!e || deps.getSession(e.sessionId)?.revoked)
      throw new ApiError(404, "transfer_not_found", "No such transfer (or it expired or was acknowledged)");
    const ok =
      role === "sender"
        ? e.senderId === deviceId
        : role === "recipient"
          ? e.recipientId === deviceId
          : e.senderId === deviceId || e.recipientId === deviceId;
    if (!ok)
      throw new ApiError(
        403,
        "not_participant",
        `Only the session's ${role === "sender" ? "caller" : role === "recipient" ? "callee" : "peers"} may do this`,
      );
    return e;
  };

  const app = new Hono<RelayEnv>();
  // Own refusals become the API's error shape here, so this module behaves the same mounted or standalone;
  // anything else propagates to the node's onError (500, detail to the log only).
  const guard =
    (h: (c: Context<RelayEnv>) => Promise<Response> | Response) =>
    async (c: Context<RelayEnv>): Promise<Response> => {
      try {
        sweep();
        return await h(c);
      } catch (e) {
        if (e instanceof ApiError) {
          return c.json(e.body(), e.status);
        }
        throw e;
      }
    };

  app.post(
    "/transfers",
    guard(async (c) => {
      const me = c.get("deviceId");
      const o = await readJsonObject(c);
      const sessionId = o.session;
      if (typeof sessionId !== "string" || sessionId.length === 0 || sessionId.length > 128) {
        throw new ApiError(400, "bad_request", "Invalid field 'session': must be a session id");
      }
      const size = positiveInt(o.size, "size");
      const kind = o.kind;
      if (kind !== "relay" && kind !== "store") {
        throw new ApiError(400, "bad_request", 'Invalid field \'kind\': must be "relay" or "store"');
      }
      const label = o.label ?? null;
      if (label !== null && (typeof label !== "string" || label.length > MAX_LABEL_CHARS)) {
        throw new ApiError(
          400,
          "bad_request",
          `Invalid field 'label': must be a string of at most ${MAX_LABEL_CHARS}`,
        );
      }
      const s = deps.getSession(sessionId);
      if (!s) throw new ApiError(404, "session_not_found", "No such session");
      if (s.callerId !== me) {
        throw new ApiError(403, "not_participant", "Only the session's caller may send through the node");
      }
      if (s.state !== "active") throw new ApiError(409, "session_ended", "The session has ended");
      if (kind === "relay" && s.mode !== "live") {
        throw new ApiError(
          409,
          "session_mode_mismatch",
          'A live relay needs a live session; use kind "store"',
        );
      }
      if (size > deps.thresholdBytes) {
        throw new ApiError(
          413,
          "transfer_too_large",
          `Transfer of ${size} bytes exceeds the node's threshold`,
          {
            details: {
              threshold: deps.thresholdBytes,
            },
          },
        );
      }
      capacity?.admitTransfer(size, now());
      const e = store.create(
        {
          sessionId,
          senderId: me,
          recipientId: s.calleeId,
          kind: kind as TransferKind,
          size,
          label: label as string | null,
          ttlSec: deps.ttlSec,
          quotaBytes: deps.quotaBytes,
        },
        now(),
      );
      log(`spool: ${e.id} created (${kind}, ${size} bytes, session ${sessionId})`);
      // A live relay is announced at once so the callee can follow the upload; stored data only once complete.
      if (kind === "relay") deps.notify(s.calleeId, "data", { transfer: e.id, session: sessionId, kind });
      return c.json({ transfer: transferInfo(e) }, 201);
    }),
  );

  app.get(
    "/transfers/:id",
    guard((c) => c.json(transferInfo(entryFor(idOf(c), c.get("deviceId"), "either")))),
  );

  app.put(
    "/transfers/:id/data",
    guard(async (c) => {
      const id = idOf(c);
      const e = entryFor(id, c.get("deviceId"), "sender");
      const offset = offsetParam(c);
      if (e.complete)
        throw new ApiError(409, "transfer_complete", "Transfer is already complete", {
          details: {
            received: e.received,
          },
        });
      if (uploading.has(id))
        throw new ApiError(409, "upload_in_progress", "Another upload to this transfer is running");
      if (offset !== e.received) {
        throw new ApiError(409, "offset_mismatch", `Node holds ${e.received} bytes; resume at that offset`, {
          details: {
            received: e.received,
          },
        });
      }
      capacity?.admitWrite(e);
      const live = { written: offset };
      uploading.set(id, live);
      let result: Awaited<ReturnType<typeof appendStream>>;
      try {
        let counted = offset;
        result = await appendStream({
          path: store.pathOf(id),
          offset,
          limit: e.size,
          body: c.req.raw.body,
          ...(deps.syncEveryBytes !== undefined ? { syncEvery: deps.syncEveryBytes } : {}),
          checkpoint: (durable) => {
            store.setReceived(id, durable);
            deps.onBytes(e.sessionId, durable - counted);
            counted = durable;
          },
          onWritten: (written) => {
            live.written = written;
            wake(id);
          },
        });
        if (offset === 0) store.syncDirectory();
      } finally {
        uploading.delete(id);
        wake(id);
      }
      if (result.error instanceof ApiError) throw result.error;
      const full = noSpaceError(result.error, result.received);
      if (full) throw full;
      if (result.error !== undefined) {
        log(`spool: upload to ${id} ended early at ${result.received}: ${String(result.error)}`);
      }
      return c.json({ received: result.received });
    }),
  );

  // Issue 21 item 11: the sender may give a transfer up; its reservation is freed at once.
  app.delete(
    "/transfers/:id",
    guard((c) => {
      const id = idOf(c);
      entryFor(id, c.get("deviceId"), "sender");
      store.remove(id);
      wake(id);
      log(`spool: ${id} cancelled by its sender`);
      return c.body(null, 204);
    }),
  );

  app.post(
    "/transfers/:id/complete",
    guard(async (c) => {
      const id = idOf(c);
      const e = entryFor(id, c.get("deviceId"), "sender");
      const o = await readJsonObject(c);
      const size = positiveInt(o.size, "size");
      const sha = o.sha256;
      if (sha !== undefined && (typeof sha !== "string" || !SHA256_HEX.test(sha))) {
        throw new ApiError(400, "bad_request", "Invalid field 'sha256': must be 64 lower-case hex digits");
      }
      if (size !== e.size)
        throw new ApiError(409, "size_mismatch", `Declared size was ${e.size}, not ${size}`);
      if (uploading.has(id))
        throw new ApiError(409, "upload_in_progress", "An upload to this transfer is running");
      if (e.received !== e.size) {
        throw new ApiError(409, "transfer_incomplete", `Node holds ${e.received} of ${e.size} bytes`, {
          details: {
            received: e.received,
          },
        });
      }
      if (!e.complete && sha !== undefined) {
        const h = createHash("sha256");
        for await (const chunk of createReadStream(store.pathOf(id))) h.update(chunk as Buffer);
        if (h.digest("hex") !== sha) {
          throw new ApiError(409, "checksum_mismatch", "Stored bytes do not match the given sha256");
        }
      }
      if (!e.complete) {
        store.markComplete(id, (sha as string | undefined) ?? null);
        wake(id);
        log(`spool: ${id} complete`);
        if (e.kind === "store")
          deps.notify(e.recipientId, "data", { transfer: id, session: e.sessionId, kind: e.kind });
      }
      return c.json(transferInfo(store.get(id, now())!));
    }),
  );

  app.get(
    "/transfers/:id/data",
    guard((c) => {
      const id = idOf(c);
      const e = entryFor(id, c.get("deviceId"), "recipient");
      const offset = offsetParam(c);
      if (e.kind === "store" && !e.complete) {
        throw new ApiError(409, "transfer_incomplete", "Stored data is delivered only once complete", {
          details: {
            received: e.received,
          },
        });
      }
      if (offset > e.size)
        throw new ApiError(400, "bad_request", `Offset ${offset} is past the size ${e.size}`);
      const headers = {
        "content-type": "application/octet-stream",
        "x-pvrlink-size": String(e.size),
        "x-pvrlink-offset": String(offset),
      };
      if (e.complete) {
        return new Response(Bun.file(store.pathOf(id)).slice(offset, e.size), {
          headers: { ...headers, "content-length": String(e.size - offset) },
        });
      }
      const stream = followFile(
        store.pathOf(id),
        offset,
        {
          available: () => Math.max(uploading.get(id)?.written ?? 0, store.get(id, now())?.received ?? 0),
          complete: () => store.get(id, now())?.complete ?? false,
          exists: () => store.get(id, now()) !== null,
          waitForGrowth: (ms) =>
            new Promise<void>((resolve) => {
              const done = () => {
                clearTimeout(t);
                waiters.get(id)?.delete(done);
                resolve();
              };
              const t = setTimeout(done, ms);
              let set = waiters.get(id);
              if (!set) {
                set = new Set();
                waiters.set(id, set);
              }
              set.add(done);
            }),
        },
        deps.followIdleMs ?? DEFAULT_FOLLOW_IDLE_MS,
      );
      return new Response(stream, { headers });
    }),
  );

  app.post(
    "/transfers/:id/ack",
    guard((c) => {
      const id = idOf(c);
      entryFor(id, c.get("deviceId"), "recipient");
      if (uploading.has(id)) throw new ApiError(409, "upload_in_progress", "The sender is still uploading");
      store.remove(id);
      wake(id);
      log(`spool: ${id} acknowledged and deleted`);
      return c.json({ id, deleted: true });
    }),
  );

  app.get(
    "/inbox",
    guard((c) => {
      const transfers = store.inbox(c.get("deviceId"), now()).map((e) => ({
        id: e.id,
        session: e.sessionId,
        sender: { id: e.senderId, name: deps.deviceName?.(e.senderId) ?? null },
        size: e.size,
        label: e.label,
        sha256: e.sha256,
        createdAt: e.createdAt,
        expiresAt: e.expiresAt,
      }));
      return c.json(transfers);
    }),
  );

  return app;
}
