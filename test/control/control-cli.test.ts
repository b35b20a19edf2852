/** @module Integration: `pvrlink control` usage and input errors exit 2 and 1 with clear messages. */
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDataDir } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";

const dir = makeDataDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await pvrlink(["control", ...args]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const usage: Array<[string, string[]]> = [
  ["no subcommand", []],
  ["an unknown subcommand", ["launch"]],
  ["serve with an argument", ["serve", "now", "--data", dir]],
  ["an unknown flag", ["serve", "--port", "1"]],
  ["enroll without a name", ["enroll", "--data", dir]],
  ["token with a bad --ttl", ["token", "--ttl", "soon", "--data", dir]],
];
for (const [what, args] of usage) {
  test(`pvrlink control rejects ${what} with exit 2`, async () => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Usage:");
  });
}

test("pvrlink control enroll: a taken name or a bad name is exit 1 with its code", async () => {
  const first = await run("enroll", "Grandpa", "--data", dir);
  expect(first.code).toBe(0);
  expect(JSON.parse(first.out)).toMatchObject({ name: "Grandpa", node: { http: "http://127.0.0.1:8650" } });
  const again = await run("enroll", "grandpa", "--data", dir);
  expect(again.code).toBe(1);
  expect(again.err).toContain("name_taken");
  expect((await run("enroll", "two words", "--data", dir)).code).toBe(1);
});

test("pvrlink control serve: a bad config file is exit 1 before anything binds", async () => {
  const cfg = join(dir, "bad.json");
  writeFileSync(cfg, JSON.stringify({ sessionDurationSec: "long" }));
  const r = await run("serve", "--data", dir, "--config", cfg);
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
  expect(r.err).toContain("ERR_CONFIG");
});

test("pvrlink control token and admin-token print what the operator needs", async () => {
  const t = await run("token", "--ttl", "60", "--data", dir);
  expect(t.code).toBe(0);
  expect(JSON.parse(t.out).token).toMatch(/^enr_/);
  const a = await run("admin-token", "--data", dir);
  expect(a.out.trim()).toMatch(/^adm_/);
});
