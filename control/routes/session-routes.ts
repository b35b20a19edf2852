/** @module QUERY, the callee's pending sessions, and the lease (extend, end, status): seed A FIG. 5, seed B FIG. 4A/4B and FIG. 16. */
import { Hono } from "hono";
import { DIRECT_PATHS, type DirectPath, type PendingSession } from "../../protocol/api-types.ts";
import { badRequest } from "../errors/api-error.ts";
import type { DeviceEnv } from "../http/device-auth.ts";
import { idempotencyKeyOf } from "../http/idempotency-key.ts";
import { onlyFields, optBool, optInt, optString, parseJsonObject, reqString } from "../http/json-body.ts";
import type { QueryService } from "../query/query-service.ts";
import type { TriggerPort } from "../query/trigger-port.ts";
import { REVOKED, type SessionStore } from "../store/session-store.ts";

export interface SessionRouteDeps {
  sessions: SessionStore;
  query: QueryService;
  triggers: TriggerPort;
  triggerDeadlineMs: number;
  log: (msg: string) => void;
}

/** Largest byte count a peer may report: 2^53-1, the largest exact JSON integer here. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

export function createSessionRoutes(d: SessionRouteDeps): Hono<DeviceEnv> {
  const app = new Hono<DeviceEnv>();

  app.post("/query", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["callee", "storeIfBusy", "size", "idempotencyKey"]);
    const callee = reqString(o, "callee", 64);
    const storeIfBusy = optBool(o, "storeIfBusy") ?? false;
    // The bytes the caller means to send: the node's store offer checks them against threshold and quota.
    const size = optInt(o, "size", { min: 0, max: MAX_BYTES });
    // A retry of this QUERY (same key, on any node) supersedes the session an earlier attempt was given.
    const idempotencyKey = idempotencyKeyOf(c, o);
    const out = await d.query.query(c.get("deviceId"), callee, { storeIfBusy, size, idempotencyKey });
    return c.json(out.body, out.status);
  });

  // Seed A FIG. 5 (e) / seed B FIG. 4B: each grant is handed out once, then the node forgets password and key.
  app.get("/sessions/pending", async (c) => {
    const grants = await d.sessions.takePending(c.get("deviceId"));
    const body: PendingSession[] = [];
    for (const { callerId, ...g } of grants) body.push({ ...g, caller: await d.query.peerInfo(callerId) });
    return c.json(body);
  });

  app.get("/sessions/:id", async (c) =>
    c.json(await d.sessions.statusFor(c.get("deviceId"), c.req.param("id"))),
  );

  app.post("/sessions/:id/extend", async (c) => {
    onlyFields(parseJsonObject(c.get("body"), true), []);
    return c.json(await d.sessions.extend(c.get("deviceId"), c.req.param("id")));
  });

  // Seed B FIG. 16: an end notification goes into the accounting log (merged into the session's row, so a
  // retried report counts once); the other peer gets an `end` trigger when this report ended the session.
  app.post("/sessions/:id/end", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["reason", "bytesDirect", "bytesRelay", "directPath"]);
    const reason = reqString(o, "reason", 200);
    const bytesDirect = optInt(o, "bytesDirect", { min: 0, max: MAX_BYTES }) ?? 0;
    const bytesRelay = optInt(o, "bytesRelay", { min: 0, max: MAX_BYTES }) ?? 0;
    const me = c.get("deviceId");
    const id = c.req.param("id");
    await d.sessions.statusFor(me, id); // 404 for anyone but the two peers
    const directPath = optString(o, "directPath", 20);
    if (directPath !== undefined && !(DIRECT_PATHS as readonly string[]).includes(directPath)) {
      throw badRequest("directPath", `must be one of ${DIRECT_PATHS.join(", ")}`);
    }
    const { endedNow, summary } = await d.sessions.end(id, {
      reporter: me,
      reason,
      bytesDirect,
      bytesRelay,
      directPath: (directPath ?? null) as DirectPath | null,
    });
    // The callee's own (device-held) list dropped the caller: the session is revoked, not just ended, so its
    // spool data and undelivered grant go too (issue 21 item 3).
    if (reason === REVOKED && me === summary.calleeId) await d.sessions.revoke(id);
    if (endedNow) {
      const other = summary.callerId === me ? summary.calleeId : summary.callerId;
      void d.triggers
        .trigger(other, "end", { session: id, reason }, { deadlineMs: d.triggerDeadlineMs })
        .catch((err: unknown) => d.log(`end trigger for ${id} failed: ${(err as Error).message}`));
    }
    return c.json(await d.sessions.statusFor(me, id));
  });

  return app;
}
