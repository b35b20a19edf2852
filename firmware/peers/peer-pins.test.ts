/** @module Tests of peer pinning: first contact pins, the same key passes, a changed or missing key is refused until trusted. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, identityFingerprint } from "../../crypto/x25519-identity.ts";
import { PEER_PINS_FILE, PeerPins } from "./peer-pins.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function pins(): { pins: PeerPins; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-peers-"));
  dirs.push(dir);
  return { pins: new PeerPins(dir), dir };
}

describe("PeerPins", () => {
  test("check() pins on first contact (0600 file) and accepts the same key again, whatever the name's case", async () => {
    const { pins: p, dir } = pins();
    const bob = (await generateIdentity()).publicKey;
    expect(p.check("bob", bob)).toBeUndefined();
    expect(statSync(join(dir, PEER_PINS_FILE)).mode & 0o777).toBe(0o600);
    expect(p.check("Bob", bob)).toBeUndefined();
    expect(p.list()).toMatchObject([{ name: "bob", publicKey: bob, fingerprint: identityFingerprint(bob) }]);
  });

  test("check() refuses a changed key with peer_key_changed until trust(), which approves exactly the offered key", async () => {
    const { pins: p } = pins();
    const [bob, mallory, other] = await Promise.all([
      generateIdentity(),
      generateIdentity(),
      generateIdentity(),
    ]);
    p.check("bob", bob.publicKey);
    expect(p.check("bob", mallory.publicKey)?.code).toBe("peer_key_changed");
    expect(p.check("bob", mallory.publicKey)?.code).toBe("peer_key_changed");
    expect(p.list()[0]?.offered?.fingerprint).toBe(identityFingerprint(mallory.publicKey));
    expect(p.check("bob", bob.publicKey)).toBeUndefined();
    expect(p.trust("bob")).toBe(true);
    expect(p.check("bob", mallory.publicKey)).toBeUndefined();
    expect(p.check("bob", other.publicKey)?.code).toBe("peer_key_changed");
  });

  test("check() refuses a pinned peer the node sends without a key: peer_key_missing", async () => {
    const { pins: p } = pins();
    expect(p.check("carol", undefined)).toBeUndefined();
    p.check("carol", (await generateIdentity()).publicKey);
    expect(p.check("carol", undefined)?.code).toBe("peer_key_missing");
  });

  test.each([
    ["not base64url", "a+b/"],
    ["31 bytes", "A".repeat(42)],
  ])("check() refuses a malformed key (%s) with peer_key_invalid and pins nothing", (_n, key) => {
    const { pins: p } = pins();
    expect(p.check("bob", key)?.code).toBe("peer_key_invalid");
    expect(p.list()).toEqual([]);
  });

  test("trust() is false when no changed key waits", () => {
    const { pins: p } = pins();
    expect(p.trust("nobody")).toBe(false);
  });

  test.each([
    ["not JSON", "{"],
    ["no peers object", "{}"],
    ["peers as an array", '{"peers":[]}'],
    ["an entry without a key", '{"peers":{"bob":{"name":"bob"}}}'],
  ])("check() refuses a damaged peers.json (%s) with ERR_PEERS_FILE and leaves it as it was", (_n, text) => {
    const { pins: p, dir } = pins();
    writeFileSync(join(dir, PEER_PINS_FILE), text, { mode: 0o600 });
    expect(() => p.check("bob", undefined)).toThrow(expect.objectContaining({ code: "ERR_PEERS_FILE" }));
    expect(p.verdict("bob", undefined)?.code).toBe("peer_check_failed");
    expect(readFileSync(join(dir, PEER_PINS_FILE), "utf8")).toBe(text);
  });
});
