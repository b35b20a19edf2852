/** @module POST /v1/permission-list: a device under policy "list" answers the node's `list` trigger with its current list (seed B embodiment 1). */
import { Hono } from "hono";
import { ApiError, badRequest } from "../errors/api-error.ts";
import type { DeviceEnv } from "../http/device-auth.ts";
import { onlyFields, optStringArray, parseJsonObject, reqString } from "../http/json-body.ts";
import type { DeviceListRequests, DeviceSentList } from "../query/device-list-requests.ts";
import { checkGroupName, normalizeEntry } from "../store/allow-list-store.ts";
import { DEVICE_NAME, nameKey } from "../store/device-store.ts";

export interface PermissionListRouteDeps {
  lists: DeviceListRequests;
  /** Entries, and group members in all, at most (maxListEntries). */
  maxListEntries: number;
}

/** The body's `groups`: an object of group name → member names, at most `max` members in all. */
function readGroups(v: unknown, max: number): Record<string, string[]> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw badRequest("groups", "must be an object");
  const out: Record<string, string[]> = {};
  let members = 0;
  for (const [group, list] of Object.entries(v)) {
    const key = checkGroupName(group, "groups");
    if (!Array.isArray(list)) throw badRequest(`groups.${key}`, "must be an array of device names");
    members += list.length;
    if (members > max) throw badRequest("groups", `more than ${max} members`);
    out[key] = list.map((m) => {
      if (typeof m !== "string" || !DEVICE_NAME.test(m))
        throw badRequest(`groups.${key}`, "holds a bad name");
      return nameKey(m);
    });
  }
  return out;
}

export function createPermissionListRoutes(d: PermissionListRouteDeps): Hono<DeviceEnv> {
  const app = new Hono<DeviceEnv>();
  // Signed like every /v1 request (HMAC over method, path, body hash: section 2), so the list is the device's.
  app.post("/permission-list", (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["request", "entries", "groups"]);
    const request = reqString(o, "request", 64);
    const entries = (optStringArray(o, "entries", d.maxListEntries) ?? []).map((e, i) =>
      normalizeEntry(e, `entries[${i}]`),
    );
    const list: DeviceSentList = { entries, groups: readGroups(o.groups, d.maxListEntries) };
    if (!d.lists.deliver(c.get("deviceId"), request, list)) {
      throw new ApiError(404, "list_request_not_found", "No query is waiting for this device's list");
    }
    return c.body(null, 204);
  });
  return app;
}
