/** @module PUT /v1/identity: a recorder publishes its X25519 public key, which the node gives the other peer of each session. */
import { Hono } from "hono";
import { parseIdentityPublicKey } from "../../crypto/x25519-identity.ts";
import { badRequest } from "../errors/api-error.ts";
import type { DeviceEnv } from "../http/device-auth.ts";
import { onlyFields, parseJsonObject, reqString } from "../http/json-body.ts";
import type { IdentityKeyStore } from "../store/identity-key-store.ts";

export function createIdentityRoutes(keys: IdentityKeyStore): Hono<DeviceEnv> {
  const app = new Hono<DeviceEnv>();
  app.put("/identity", (c) => {
    const o = parseJsonObject(c.get("body"));
    onlyFields(o, ["publicKey"]);
    const publicKey = reqString(o, "publicKey", 64);
    try {
      parseIdentityPublicKey(publicKey);
    } catch (err) {
      throw badRequest("publicKey", (err as Error).message);
    }
    keys.publish(c.get("deviceId"), publicKey);
    return c.json({ publicKey });
  });
  return app;
}
