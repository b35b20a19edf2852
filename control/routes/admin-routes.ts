/** @module Operator routes under /admin (bearer token): devices, enrollment tokens, sessions and forced end, accounting log, spool usage. */

import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Hono, type MiddlewareHandler } from "hono";
import { tagsEqual } from "../../crypto/hmac.ts";
import { identityFingerprint } from "../../crypto/x25519-identity.ts";
import type {
  AdminDevice,
  DeviceCredential,
  EnrollmentTokenResponse,
  NodeAddresses,
  SessionState,
  SpoolUsage,
} from "../../protocol/api-types.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import { onlyFields, optInt, optString, parseJsonObject, readLimited, reqString } from "../http/json-body.ts";
import type { SessionRevocation } from "../query/session-revocation.ts";
import type { TriggerPort } from "../query/trigger-port.ts";
import type { DeviceStore } from "../store/device-store.ts";
import type { IdentityKeyStore } from "../store/identity-key-store.ts";
import type { KeepaliveLookup } from "../store/keepalive-table.ts";
import type { SessionStore } from "../store/session-store.ts";

export interface AdminDeps {
  adminToken: string;
  devices: DeviceStore;
  keepalives: KeepaliveLookup;
  sessions: SessionStore;
  /** Ends a removed device's sessions (issue 21 item 3). */
  revocation?: SessionRevocation;
  triggers: TriggerPort;
  triggerDeadlineMs: number;
  enrollmentTokenTtlSec: number;
  /** What the spool holds now: its directory measured, or an S3 spool's objects from the index. */
  spoolUsage: () => Promise<SpoolUsage>;
  maxBodyBytes: number;
  nodeAddresses: () => NodeAddresses;
  /** The identity key each device published, for its fingerprint in the operator's views. */
  identityKeys: Pick<IdentityKeyStore, "keyOf">;
  log: (msg: string) => void;
}

const digest = (s: string) => new Uint8Array(createHash("sha256").update(s).digest());

/** Constant-time token check: both sides hashed first, so neither length nor prefix leaks through timing. */
export function adminTokenMatches(expected: string, given: string | undefined | null): boolean {
  return typeof given === "string" && tagsEqual(digest(expected), digest(given));
}

/** Files and bytes under the spool directory (0/0 when it does not exist yet). */
export function spoolUsage(dir: string): SpoolUsage {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else {
          files++;
          bytes += st.size;
        }
      } catch {
        // removed while walking: not counted
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

export async function listDevices(
  d: Pick<AdminDeps, "devices" | "keepalives" | "identityKeys">,
): Promise<AdminDevice[]> {
  const out: AdminDevice[] = [];
  for (const dev of await d.devices.list()) {
    const reg = await d.devices.registration(dev.id);
    const ka = await d.keepalives.get(dev.id);
    const key = await d.identityKeys.keyOf(dev.id);
    out.push({
      ...dev,
      registration: reg,
      keepalive: ka,
      connected: await d.keepalives.isConnected(dev.id),
      keyFingerprint: key === undefined ? null : identityFingerprint(key),
    });
  }
  return out;
}

function parseTime(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw badRequest(field, "must be unix milliseconds");
  return Number(v);
}

export function createAdminRoutes(d: AdminDeps): Hono {
  const app = new Hono();
  const auth: MiddlewareHandler = async (c, next) => {
    const h = c.req.header("authorization");
    const given = h?.startsWith("Bearer ") ? h.slice(7) : null;
    if (!adminTokenMatches(d.adminToken, given))
      throw new ApiError(401, "unauthorized", "Admin token required");
    await next();
  };
  app.use("*", auth);
  const body = async (req: Request, emptyAllowed = false) =>
    parseJsonObject(await readLimited(req, d.maxBodyBytes), emptyAllowed);

  app.get("/devices", async (c) => c.json(await listDevices(d)));

  app.post("/devices", async (c) => {
    const o = await body(c.req.raw);
    onlyFields(o, ["name"]);
    const cred = await d.devices.enroll(reqString(o, "name", 64));
    d.log(`admin: enrolled ${cred.id}`);
    const out: DeviceCredential = { ...cred, node: d.nodeAddresses() };
    return c.json(out, 201);
  });

  app.delete("/devices/:id", async (c) => {
    const id = c.req.param("id");
    if (await d.devices.byId(id)) await d.revocation?.deviceGone(id);
    if (!(await d.devices.remove(id))) throw new ApiError(404, "not_found", `Device ${id} not found`);
    d.keepalives.forget?.(id);
    d.log(`admin: removed ${id}`);
    return c.body(null, 204);
  });

  app.post("/enrollment-tokens", async (c) => {
    const o = await body(c.req.raw, true);
    onlyFields(o, ["ttlSec"]);
    const ttl = optInt(o, "ttlSec", { min: 1, max: 365 * 24 * 3600 }) ?? d.enrollmentTokenTtlSec;
    const out: EnrollmentTokenResponse = {
      ...(await d.devices.createEnrollmentToken(ttl)),
      node: d.nodeAddresses(),
    };
    return c.json(out, 201);
  });

  app.get("/sessions", async (c) => {
    const state = c.req.query("state");
    if (state !== undefined && state !== "active" && state !== "ended") {
      throw badRequest("state", "must be active or ended");
    }
    return c.json(await d.sessions.listForAdmin(state as SessionState | undefined));
  });

  // Seed B FIG. 16 (end processing unit): the operator ends a session; both peers get an `end` trigger.
  app.post("/sessions/:id/end", async (c) => {
    const o = await body(c.req.raw, true);
    onlyFields(o, ["reason"]);
    const reason = optString(o, "reason", 200) ?? "admin";
    const id = c.req.param("id");
    const { summary } = await d.sessions.end(id, { reporter: "admin", reason });
    d.log(`admin: ended ${id}`);
    const ref = { session: id, reason };
    const opts = { deadlineMs: d.triggerDeadlineMs };
    const [caller, callee] = await Promise.all([
      d.triggers.trigger(summary.callerId, "end", ref, opts).catch(() => null),
      d.triggers.trigger(summary.calleeId, "end", ref, opts).catch(() => null),
    ]);
    return c.json({ id, state: "ended", acknowledged: { caller: caller !== null, callee: callee !== null } });
  });

  app.get("/accounting", async (c) => {
    const q = {
      device: c.req.query("device"),
      from: parseTime(c.req.query("from"), "from"),
      to: parseTime(c.req.query("to"), "to"),
    };
    return c.json(await d.sessions.accounting(q));
  });

  app.get("/spool", async (c) => c.json(await d.spoolUsage()));

  return app;
}
