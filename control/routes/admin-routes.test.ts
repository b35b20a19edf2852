/** @module listDevices(): the operator's view of each device, with its identity key's fingerprint once published. */
import { expect, test } from "bun:test";
import { generateIdentity, identityFingerprint } from "../../crypto/x25519-identity.ts";
import { DeviceStore } from "../store/device-store.ts";
import { IdentityKeyStore } from "../store/identity-key-store.ts";
import { KeepaliveTable } from "../store/keepalive-table.ts";
import { openControlStore } from "../store/open-control-store.ts";
import { listDevices } from "./admin-routes.ts";

test("listDevices() shows no fingerprint before a device publishes its key, and the peers' fingerprint after", async () => {
  const db = await openControlStore(":memory:");
  const devices = new DeviceStore(db);
  const identityKeys = new IdentityKeyStore(db);
  const d = { devices, keepalives: await KeepaliveTable.load(db, 3), identityKeys };
  const a = await devices.enroll("alice");
  const b = await devices.enroll("bob");
  const key = (await generateIdentity()).publicKey;
  await identityKeys.publish(a.id, key);
  const byName = Object.fromEntries((await listDevices(d)).map((x) => [x.name, x.keyFingerprint]));
  // The same digits `pvrlink peers` shows its owner, so the operator can read them out too.
  expect(byName).toEqual({ alice: identityFingerprint(key), bob: null });
  expect(b.id).not.toBe(a.id);
  await db.close();
});
