/** @module Registration, allow-list, policy and group routes (seed A FIG. 3 REGISTER, FIG. 7 address table; seed B FIG. 7 permission list). */
import { Hono } from "hono";
import type { RegistrationResponse } from "../../protocol/api-types.ts";
import { isHostName } from "../../protocol/host-name.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import type { DeviceEnv } from "../http/device-auth.ts";
import {
  onlyFields,
  optStringArray,
  parseJsonObject,
  reqAddress,
  reqInt,
  reqString,
} from "../http/json-body.ts";
import { isPublicAddress } from "../http/public-address.ts";
import type { SessionRevocation } from "../query/session-revocation.ts";
import type { AllowListStore } from "../store/allow-list-store.ts";
import type { DeviceStore } from "../store/device-store.ts";

export interface DeviceRouteDeps {
  devices: DeviceStore;
  allow: AllowListStore;
  maxListEntries: number;
  /** Accept non-public addresses (control-config allowPrivateAddresses). */
  allowPrivateAddresses?: boolean;
  /** Ends the sessions of callers a change no longer permits (issue 21 item 3). */
  revocation?: SessionRevocation;
}

/** Routes under /v1 for an authenticated device (c.get("deviceId")). */
export function createDeviceRoutes(d: DeviceRouteDeps): Hono<DeviceEnv> {
  const app = new Hono<DeviceEnv>();
  const me = async (id: string) => {
    const dev = await d.devices.byId(id);
    if (!dev) throw new ApiError(401, "unknown_device", "Unknown device");
    return dev;
  };
  /** Answers only after the revocations a permission change causes are in force. */
  const revoked = async <T>(ownerId: string, result: T): Promise<T> => {
    await d.revocation?.afterPermissionChange(ownerId);
    return result;
  };

  app.put("/registration", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["address", "host", "port"]);
    // Seed A variation 3: a DNS name (e.g. dynamic DNS for a port forward) instead of an address. The node
    // resolves it only when it answers a permitted caller (control/query/host-resolution.ts), never here.
    if (o.host !== undefined) {
      if (o.address !== undefined) throw badRequest("host", "give either address or host, not both");
      const host = reqString(o, "host", 253);
      if (!isHostName(host)) throw badRequest("host", "must be a DNS host name (RFC 1123)");
      const port = reqInt(o, "port", { min: 1, max: 65535 });
      const dev = await me(c.get("deviceId"));
      await d.devices.register(dev.id, host.toLowerCase(), port);
      const body: RegistrationResponse = { id: dev.id, name: dev.name, address: host.toLowerCase(), port };
      return c.json({ ...body, host: body.address });
    }
    const address = reqAddress(o, "address");
    const port = reqInt(o, "port", { min: 1, max: 65535 });
    if (!d.allowPrivateAddresses && !isPublicAddress(address)) {
      throw new ApiError(
        400,
        "address_not_public",
        `Cannot register ${address}: not a public address (the operator may allow private ones)`,
      );
    }
    const dev = await me(c.get("deviceId"));
    await d.devices.register(dev.id, address, port);
    const body: RegistrationResponse = { id: dev.id, name: dev.name, address, port };
    return c.json(body);
  });

  app.get("/registration", async (c) => {
    const dev = await me(c.get("deviceId"));
    const reg = await d.devices.registration(dev.id);
    if (!reg) throw new ApiError(404, "not_registered", "This device has not registered an address");
    return c.json({ id: dev.id, name: dev.name, address: reg.address, port: reg.port });
  });

  app.get("/allow-list", async (c) => c.json(await d.allow.list((await me(c.get("deviceId"))).id)));

  app.put("/allow-list", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["create", "add", "delete"]);
    const create = optStringArray(o, "create", d.maxListEntries);
    const add = optStringArray(o, "add", d.maxListEntries);
    const del = optStringArray(o, "delete", d.maxListEntries);
    if (!create && !add && !del) throw badRequest("body", "needs at least one of create, add, delete");
    const id = (await me(c.get("deviceId"))).id;
    return c.json(await revoked(id, await d.allow.edit(id, { create, add, delete: del })));
  });

  app.put("/policy", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["policy"]);
    const policy = o.policy;
    if (policy !== "node" && policy !== "device" && policy !== "list")
      throw badRequest("policy", "must be 'node', 'device' or 'list'");
    const id = (await me(c.get("deviceId"))).id;
    return c.json(await revoked(id, await d.allow.setPolicy(id, policy)));
  });

  app.post("/groups", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["name"]);
    const name = reqString(o, "name", 64);
    return c.json(await d.allow.createGroup((await me(c.get("deviceId"))).id, name), 201);
  });

  app.get("/groups/:name", async (c) => {
    const dev = await me(c.get("deviceId"));
    return c.json(await d.allow.getGroup(dev.id, dev.name, c.req.param("name")));
  });

  app.put("/groups/:name/members", async (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["add", "delete"]);
    const add = optStringArray(o, "add", d.maxListEntries);
    const del = optStringArray(o, "delete", d.maxListEntries);
    if (!add && !del) throw badRequest("body", "needs at least one of add, delete");
    const dev = await me(c.get("deviceId"));
    const group = await d.allow.editMembers(dev.id, dev.name, c.req.param("name"), { add, delete: del });
    return c.json(await revoked(dev.id, group));
  });

  app.delete("/groups/:name", async (c) => {
    const id = (await me(c.get("deviceId"))).id;
    await d.allow.deleteGroup(id, c.req.param("name"));
    await revoked(id, null);
    return c.body(null, 204);
  });

  return app;
}
