/** @module listDevices(): the operator's view of each device, with its identity key's fingerprint once published. */
import { expect, test } from "bun:test";
import { generateIdentity, identityFingerprint } from "../../crypto/x25519-identity.ts";
import { openControlDatabase } from "../store/control-database.ts";
import { DeviceStore } from "../store/device-store.ts";
import { IdentityKeyStore } from "../store/identity-key-store.ts";
import { KeepaliveTable } from "../store/keepalive-table.ts";
import { listDevices } from "./admin-routes.ts";

test("listDevices() shows no fingerprint before a device publishes its key, and the peers' fingerprint after", async () => {
  const db = openControlDatabase(":memory:");
  const devices = new DeviceStore(db);
  const identityKeys = new IdentityKeyStore(db);
  const d = { devices, keepalives: new KeepaliveTable(db, 3), identityKeys };
  const a = devices.enroll("alice");
  const b = devices.enroll("bob");
  const key = (await generateIdentity()).publicKey;
  identityKeys.publish(a.id, key);
  const byName = Object.fromEntries(listDevices(d).map((x) => [x.name, x.keyFingerprint]));
  // The same digits `pvrlink peers` shows its owner, so the operator can read them out too.
  expect(byName).toEqual({ alice: identityFingerprint(key), bob: null });
  expect(b.id).not.toBe(a.id);
  db.close();
});
