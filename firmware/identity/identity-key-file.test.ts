/** @module Tests of the identity key file: made 0600 once, the same key after a reload, refused when others can read it. */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDENTITY_KEY_FILE, loadOrCreateIdentity } from "./identity-key-file.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-identity-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("loadOrCreateIdentity()", () => {
  test("loadOrCreateIdentity() makes the key 0600 once and loads the same key after", async () => {
    const dir = tempDir();
    const first = await loadOrCreateIdentity(dir);
    expect(statSync(join(dir, IDENTITY_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateIdentity(dir);
    expect(again.publicKey).toBe(first.publicKey);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.privateKey.extractable).toBe(false);
  });

  test.each([0o640, 0o604, 0o644])("loadOrCreateIdentity() refuses a key file with mode %o", async (mode) => {
    const dir = tempDir();
    await loadOrCreateIdentity(dir);
    chmodSync(join(dir, IDENTITY_KEY_FILE), mode);
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: "ERR_IDENTITY_KEY_PERMISSIONS" });
  });

  test.each([
    ["not JSON", "{"],
    ["another version", JSON.stringify({ version: 2, publicKey: "x", privateKey: "y" })],
    ["a damaged public key", JSON.stringify({ version: 1, publicKey: "AAAA", privateKey: "AAAA" })],
  ])(
    "loadOrCreateIdentity() rejects %s with ERR_IDENTITY_KEY_INVALID and keeps the file",
    async (_n, text) => {
      const dir = tempDir();
      writeFileSync(join(dir, IDENTITY_KEY_FILE), text, { mode: 0o600 });
      await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: "ERR_IDENTITY_KEY_INVALID" });
      expect(readFileSync(join(dir, IDENTITY_KEY_FILE), "utf8")).toBe(text);
    },
  );
});
