/** @module The recorder-side commands' usage errors, exit codes and output without a daemon or a node. */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pvrlink } from "../support/pvrlink-source.ts";
import { quietLoadDir, tempDir } from "../support/recorder-harness.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const d = ["--data", dir];

describe("pvrlink recorder / permit / inbox without a daemon", () => {
  const usage: Array<[string, string[]]> = [
    ["recorder without an action", ["recorder", ...d]],
    ["recorder with an unknown action", ["recorder", "dance", ...d]],
    ["recorder busy with a bad value", ["recorder", "busy", "maybe", ...d]],
    [
      "recorder enroll without token or credential",
      ["recorder", "enroll", "--node", "http://127.0.0.1:1", ...d],
    ],
    ["recorder run with a bad keepalive floor", ["recorder", "run", "--keepalive-floor", "x", ...d]],
    ["permit add without names", ["permit", "add", ...d]],
    ["permit policy with a bad value", ["permit", "policy", "everyone", ...d]],
    ["inbox with an argument", ["inbox", "now", ...d]],
  ];
  for (const [name, args] of usage) {
    test(`${name} is a usage error (exit 2)`, async () => {
      const r = await pvrlink(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Usage");
    });
  }

  test("recorder run without a credential is bad input (exit 1, ERR_CREDENTIAL_MISSING)", async () => {
    const r = await pvrlink(["recorder", "run", ...d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_CREDENTIAL_MISSING");
  });

  test("recorder busy on/off works without a daemon and status shows it with a live load reading", async () => {
    const load = quietLoadDir(join(dir, "load"));
    expect((await pvrlink(["recorder", "busy", "on", ...d])).code).toBe(0);
    const on = JSON.parse(
      (await pvrlink(["recorder", "status", "--json", "--load-from", load, ...d])).stdout,
    );
    expect(on).toMatchObject({ load: { state: "busy", switchOn: true }, daemon: null });
    expect((await pvrlink(["recorder", "busy", "off", ...d])).code).toBe(0);
    const off = await pvrlink(["recorder", "status", "--load-from", load, ...d]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain("load: acceptable");
    expect(off.stdout).toContain("daemon: never ran with this data dir");
  });

  test("permit under policy device edits the local file (0600) without a node", async () => {
    expect((await pvrlink(["permit", "policy", "device", ...d])).code).toBe(1); // the node must be told: none here
    const cfg = ["--policy", "device", ...d];
    expect((await pvrlink(["permit", "add", "Alice", "@Family", ...cfg])).code).toBe(0);
    expect((await pvrlink(["permit", "group", "create", "family", ...cfg])).code).toBe(0);
    expect((await pvrlink(["permit", "group", "create", "family", ...cfg])).code).toBe(1);
    expect((await pvrlink(["permit", "group", "add", "nosuch", "bob", ...cfg])).code).toBe(1);
    const g = JSON.parse(
      (await pvrlink(["permit", "group", "add", "family", "Bob", "--json", ...cfg])).stdout,
    );
    expect(g).toEqual({ name: "family", members: ["bob"] });
    expect((await pvrlink(["permit", "remove", "alice", ...cfg])).code).toBe(0);
    const list = JSON.parse((await pvrlink(["permit", "list", "--json", ...cfg])).stdout);
    expect(list).toEqual({ policy: "device", entries: ["@family"] });
    expect(statSync(join(dir, "allow-list.json")).mode & 0o777).toBe(0o600);
  });
});
