/** @module Tests for the credential file: written 0600 atomically, replaced, and damaged files reported. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { randomToken } from "../../crypto/random-token.ts";
import { DeviceCredential, loadCredential, saveCredential } from "./credential-store.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-cred-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secret = randomToken(32);
const cred = () =>
  new DeviceCredential({
    id: `dev_${randomToken(12)}`,
    name: "grandma@example.org",
    secret,
    node: "http://127.0.0.1:8470",
  });

describe("saveCredential()", () => {
  test("writes mode 0600 atomically and round-trips through loadCredential()", async () => {
    const path = join(dir, "sub", "credential.json");
    const c = cred();
    await saveCredential(path, c);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "sub"))).toEqual(["credential.json"]); // no temp file left behind
    const back = await loadCredential(path);
    expect([back.id, back.name, back.node]).toEqual([c.id, c.name, c.node]);
    expect(back.secretBytes()).toEqual(c.secretBytes());
  });
  test("replaces an existing credential", async () => {
    const path = join(dir, "replace.json");
    await saveCredential(path, cred());
    const second = cred();
    await saveCredential(path, second);
    expect((await loadCredential(path)).id).toBe(second.id);
  });
});

describe("loadCredential()", () => {
  for (const mode of [0o640, 0o604, 0o644, 0o660]) {
    test(`refuses a file with mode 0${mode.toString(8)}`, async () => {
      const path = join(dir, `open-${mode.toString(8)}.json`);
      await saveCredential(path, cred());
      chmodSync(path, mode);
      await expect(loadCredential(path)).rejects.toThrow(
        expect.objectContaining({ code: "ERR_CREDENTIAL_PERMISSIONS" }),
      );
      await expect(loadCredential(path)).rejects.toThrow(/chmod 600/);
    });
  }
  const bad: Array<[string, string, string]> = [
    ["not JSON", "{", "ERR_CREDENTIAL_INVALID"],
    ["no node", JSON.stringify({ id: "dev_abcdefgh", name: "x", secret }), "ERR_CREDENTIAL_INVALID"],
    ["a bad id", JSON.stringify({ id: "root", name: "x", secret, node: "n" }), "ERR_CREDENTIAL_INVALID"],
    [
      "a short secret",
      JSON.stringify({ id: "dev_abcdefgh", name: "x", secret: "abc", node: "n" }),
      "ERR_CREDENTIAL_INVALID",
    ],
    [
      "a non-base64url secret",
      JSON.stringify({ id: "dev_abcdefgh", name: "x", secret: "a+b/", node: "n" }),
      "ERR_CREDENTIAL_INVALID",
    ],
  ];
  for (const [what, text, code] of bad) {
    test(`rejects a file with ${what}`, async () => {
      const path = join(dir, `bad-${what.replace(/\W/g, "-")}.json`);
      writeFileSync(path, text, { mode: 0o600 });
      await expect(loadCredential(path)).rejects.toThrow(expect.objectContaining({ code }));
    });
  }
  test("says the device is not enrolled when the file is missing", async () => {
    await expect(loadCredential(join(dir, "missing.json"))).rejects.toThrow(
      expect.objectContaining({ code: "ERR_CREDENTIAL_MISSING" }),
    );
  });
});

describe("DeviceCredential", () => {
  test("never prints its secret through JSON or inspect", () => {
    const c = cred();
    expect(JSON.stringify(c)).not.toContain(secret);
    expect(inspect(c)).not.toContain(secret);
    expect(`${JSON.stringify({ c })}`).toContain("[redacted]");
  });
  test("fromEnrollment() takes the node's {id, name, secret} plus the URL used", () => {
    const c = DeviceCredential.fromEnrollment({ id: "dev_abcdefghij", name: "n", secret }, "http://x");
    expect([c.node, c.nodeUdp]).toEqual(["http://x", undefined]);
  });
  test("fromEnrollment() takes 'control enroll' output with node {http, udp} and round-trips it", async () => {
    const c = DeviceCredential.fromEnrollment({
      id: "dev_abcdefghij",
      name: "n",
      secret,
      node: { http: "http://10.0.0.1:8470", udp: "10.0.0.1:3478" },
    });
    expect([c.node, c.nodeUdp]).toEqual(["http://10.0.0.1:8470", "10.0.0.1:3478"]);
    const path = join(dir, "enrolled.json");
    await saveCredential(path, c);
    expect((await loadCredential(path)).nodeUdp).toBe("10.0.0.1:3478");
  });
  test("fromEnrollment() rejects an answer without any node URL", () => {
    expect(() => DeviceCredential.fromEnrollment({ id: "dev_abcdefghij", name: "n", secret })).toThrow(
      /no control node URL/,
    );
  });
});
