/** @module The operator's device, allow-list, group and spool actions under /admin (bearer token), used by the console and the CLI. */
import { Hono } from "hono";
import type { AdminDevice, AllowListResponse, GroupResponse } from "../../protocol/api-types.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import { onlyFields, parseJsonObject, readLimited, reqString } from "../http/json-body.ts";
import type { SessionRevocation } from "../query/session-revocation.ts";
import { adminTokenMatches, listDevices } from "../routes/admin-routes.ts";
import type { SpoolStore } from "../spool/spool-store.ts";
import type { AllowListStore } from "../store/allow-list-store.ts";
import type { DeviceStore } from "../store/device-store.ts";
import type { IdentityKeyStore } from "../store/identity-key-store.ts";
import type { KeepaliveLookup } from "../store/keepalive-table.ts";

export interface AdminOpsDeps {
  adminToken: string;
  devices: DeviceStore;
  /** Where the device list reads mappings (the table, or the store on a cluster's HTTP node). */
  keepalives: KeepaliveLookup;
  /** Drops a disabled device's mapping from this process's table. */
  forgetKeepalive: (deviceId: string) => void;
  allow: AllowListStore;
  spool: SpoolStore;
  identityKeys: Pick<IdentityKeyStore, "keyOf">;
  /** Ends the sessions a disabled device or an edited allow-list no longer permits (issue 21 item 3). */
  revocation?: SessionRevocation;
  maxBodyBytes: number;
  log: (msg: string) => void;
}

/** One spool entry as the operator sees it: names beside ids, bytes held so far. */
export interface AdminSpoolItem {
  id: string;
  sessionId: string;
  kind: "relay" | "store";
  sender: { id: string; name: string | null };
  recipient: { id: string; name: string | null };
  size: number;
  received: number;
  complete: boolean;
  label: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface AdminDeviceDetail extends AdminDevice {
  allowList: AllowListResponse;
}

const stringList = (o: Record<string, unknown>, k: string): string[] | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw badRequest(k, "must be an array of strings");
  return v as string[];
};

/** The device's operator view, or 404 device_not_found. */
export async function deviceDetail(d: AdminOpsDeps, id: string): Promise<AdminDeviceDetail> {
  const dev = (await listDevices(d)).find((x) => x.id === id);
  if (!dev) throw new ApiError(404, "device_not_found", `Device ${id} not found`);
  return { ...dev, allowList: await d.allow.list(id) };
}

/** Spool entries with the names of sender and recipient. */
export async function spoolItems(
  d: Pick<AdminOpsDeps, "spool" | "devices">,
  now = Date.now(),
): Promise<AdminSpoolItem[]> {
  const names = new Map<string, string | null>();
  const entries = await d.spool.all(now);
  for (const e of entries) {
    for (const id of [e.senderId, e.recipientId]) {
      if (!names.has(id)) names.set(id, (await d.devices.byId(id))?.name ?? null);
    }
  }
  const name = (id: string) => names.get(id) ?? null;
  return entries.map((e) => ({
    id: e.id,
    sessionId: e.sessionId,
    kind: e.kind,
    sender: { id: e.senderId, name: name(e.senderId) },
    recipient: { id: e.recipientId, name: name(e.recipientId) },
    size: e.size,
    received: e.received,
    complete: e.complete,
    label: e.label,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
  }));
}

export function createAdminOpsRoutes(d: AdminOpsDeps): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    const h = c.req.header("authorization");
    if (!adminTokenMatches(d.adminToken, h?.startsWith("Bearer ") ? h.slice(7) : null))
      throw new ApiError(401, "unauthorized", "Admin token required");
    await next();
  });
  const body = async (req: Request) => parseJsonObject(await readLimited(req, d.maxBodyBytes));

  app.get("/devices/:id", async (c) => c.json(await deviceDetail(d, c.req.param("id"))));

  app.patch("/devices/:id", async (c) => {
    const id = c.req.param("id");
    const o = await body(c.req.raw);
    onlyFields(o, ["name"]);
    if (!(await d.devices.rename(id, reqString(o, "name", 64))))
      throw new ApiError(404, "device_not_found", `Device ${id} not found`);
    d.log(`admin: renamed ${id}`);
    return c.json(await deviceDetail(d, id));
  });

  for (const [action, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    app.post(`/devices/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      // Its sessions end first, while its secret still signs the `end` triggers its peers and it receive.
      if (disabled && (await d.devices.byId(id))) await d.revocation?.deviceGone(id);
      if (!(await d.devices.setDisabled(id, disabled)))
        throw new ApiError(404, "device_not_found", `Device ${id} not found`);
      if (disabled) d.forgetKeepalive(id);
      d.log(`admin: ${action}d ${id}`);
      return c.json(await deviceDetail(d, id));
    });
  }

  // Node-held lists only: under policy "device" the store refuses with 409 policy_is_device.
  app.put("/devices/:id/allow-list", async (c) => {
    const id = c.req.param("id");
    await deviceDetail(d, id);
    const o = await body(c.req.raw);
    onlyFields(o, ["create", "add", "delete"]);
    const out = await d.allow.edit(id, {
      create: stringList(o, "create"),
      add: stringList(o, "add"),
      delete: stringList(o, "delete"),
    });
    d.log(`admin: edited the allow-list of ${id}`);
    await d.revocation?.afterPermissionChange(id);
    return c.json(out);
  });

  app.get("/groups", async (c) => c.json((await d.allow.allGroups()) satisfies GroupResponse[]));

  app.get("/spool/items", async (c) => c.json(await spoolItems(d)));

  app.delete("/spool/items/:id", async (c) => {
    const id = c.req.param("id");
    if (!/^tr_[A-Za-z0-9_-]{1,64}$/.test(id) || !(await d.spool.get(id, Date.now())))
      throw new ApiError(404, "transfer_not_found", `Spool item ${id} not found`);
    await d.spool.remove(id);
    d.log(`admin: deleted spool item ${id}`);
    return c.body(null, 204);
  });

  return app;
}
