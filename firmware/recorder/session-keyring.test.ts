/** @module Tests for SessionKeyring: grants survive a restart, are deleted, and damaged files are reported. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PendingSession } from "../../protocol/api-types.ts";
import { SessionKeyring, STORE_KEY_KEEP_MS } from "./session-keyring.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-keyring-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `sessions-${++n}.json`);

const grant = (id: string, mode: "live" | "store", expiresAt: number): PendingSession => ({
  id,
  password: "pw_pw_pw_pw_pw_pw",
  key: "k".repeat(43),
  duration: 600,
  expiresAt,
  connectBy: expiresAt,
  mode,
  caller: { id: "dev_caller000001", name: "alice", address: null, port: null },
});

describe("SessionKeyring", () => {
  test("SessionKeyring survives a restart: grants fetched once are still there, file 0600", () => {
    const path = file();
    const a = SessionKeyring.load(path, () => 1000);
    a.add(grant("ses_a", "live", 10_000));
    a.add(grant("ses_b", "store", 2000));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const b = SessionKeyring.load(path, () => 1500);
    expect(
      b
        .all()
        .map((s) => s.id)
        .sort(),
    ).toEqual(["ses_a", "ses_b"]);
    expect(b.get("ses_a")?.key).toBe("k".repeat(43));
  });

  const prunes: Array<[string, "live" | "store", number, number, boolean]> = [
    ["keeps a live grant before its lease ends", "live", 10_000, 9_999, true],
    ["drops a live grant at its lease end", "live", 10_000, 10_000, false],
    ["keeps a store grant past its lease (the data waits at the node)", "store", 10_000, 50_000, true],
    ["drops a store grant after the keep period", "store", 10_000, 1000 + STORE_KEY_KEEP_MS, false],
  ];
  for (const [name, mode, expiresAt, later, kept] of prunes) {
    test(`prune() ${name}`, () => {
      const path = file();
      SessionKeyring.load(path, () => 1000).add(grant("ses_x", mode, expiresAt));
      expect(SessionKeyring.load(path, () => later).has("ses_x")).toBe(kept);
    });
  }

  test("delete() removes the grant from the file", () => {
    const path = file();
    const k = SessionKeyring.load(path, () => 0);
    k.add(grant("ses_d", "live", 10_000));
    k.delete("ses_d");
    expect(SessionKeyring.load(path, () => 0).size).toBe(0);
  });

  test("load() skips malformed entries and throws on a damaged file", () => {
    const path = file();
    writeFileSync(
      path,
      JSON.stringify({ sessions: [{ session: { id: 1 }, fetchedAt: 0 }, { fetchedAt: 0 }] }),
    );
    expect(SessionKeyring.load(path).size).toBe(0);
    writeFileSync(path, "{not json");
    expect(() => SessionKeyring.load(path)).toThrow(SyntaxError);
    writeFileSync(path, JSON.stringify({ sessions: 3 }));
    expect(() => SessionKeyring.load(path)).toThrow(SyntaxError);
  });
});
