/** @module Tests for SessionIntake's start: kept live grants are re-armed as tickets, store grants are not, a damaged keyring is reported and replaced. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PendingSession } from "../../protocol/api-types.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { PeerPins } from "../peers/peer-pins.ts";
import { SessionIntake } from "./session-intake.ts";
import { SESSION_KEYRING_FILE, SessionKeyring } from "./session-keyring.ts";

const root = mkdtempSync(join(tmpdir(), "pvrlink-intake-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dataDir(): string {
  const d = join(root, `data-${++n}`);
  mkdirSync(d);
  return d;
}

const grant = (id: string, mode: "live" | "store"): PendingSession => ({
  id,
  password: "pw_pw_pw_pw_pw_pw",
  key: "k".repeat(43),
  duration: 600,
  expiresAt: Date.now() + 600_000,
  connectBy: Date.now() + 600_000,
  mode,
  caller: { id: "dev_caller000001", name: "alice", address: null, port: null },
});

// Start-up only reads the disk and never calls the node, so the client points at a port nothing listens on.
const client = new ControlClient({
  baseUrl: "http://127.0.0.1:9",
  deviceId: "dev_me",
  secret: "s".repeat(43),
});

/** The real identity key and peer pins a daemon opens in DIR. */
async function parts(dir: string) {
  return { dataDir: dir, client, identity: await loadOrCreateIdentity(dir), peers: new PeerPins(dir) };
}

describe("SessionIntake", () => {
  test("new SessionIntake() re-arms kept live grants and leaves store grants to the pickup", async () => {
    const dir = dataDir();
    const kept = SessionKeyring.load(join(dir, SESSION_KEYRING_FILE));
    kept.add(grant("ses_live", "live"));
    kept.add(grant("ses_store", "store"));
    const lines: string[] = [];
    const intake = new SessionIntake({ ...(await parts(dir)), log: (e) => lines.push(e) });
    expect(intake.keyring.size).toBe(2);
    expect(intake.tickets.size).toBe(1);
    expect(intake.tickets.keyFor("ses_live")).toBeInstanceOf(Uint8Array);
    expect(intake.tickets.keyFor("ses_store")).toBeUndefined();
    expect(lines).toEqual([]);
  });

  test("new SessionIntake() starts empty without a keyring file", async () => {
    const intake = new SessionIntake({ ...(await parts(dataDir())), log: () => {} });
    expect(intake.keyring.size).toBe(0);
    expect(intake.tickets.size).toBe(0);
  });

  const damaged: Array<[string, string]> = [
    ["text that is not JSON", "{sessions:"],
    ["a JSON array", "[]"],
  ];
  for (const [what, text] of damaged) {
    test(`new SessionIntake() reports a keyring of ${what} and starts empty`, async () => {
      const dir = dataDir();
      writeFileSync(join(dir, SESSION_KEYRING_FILE), text);
      const events: Array<[string, Record<string, unknown> | undefined]> = [];
      const intake = new SessionIntake({ ...(await parts(dir)), log: (e, f) => events.push([e, f]) });
      expect(intake.keyring.size).toBe(0);
      expect(events.map(([e]) => e)).toEqual(["session-keyring-damaged"]);
      expect(String(events[0]?.[1]?.message)).not.toBe("");
    });
  }
});
