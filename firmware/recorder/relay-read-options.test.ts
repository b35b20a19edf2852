/** @module Tests of relayReadOptions(): which key opens a relay transfer, and how long a live or stored read waits. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import type { PendingSession, SessionMode } from "../../protocol/api-types.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { loadOrCreateIdentity, type RecorderIdentity } from "../identity/identity-key-file.ts";
import { type RelayJob, relayReadOptions } from "./relay-read-options.ts";
import { SessionWork } from "./session-work.ts";

const LEASE_END = Date.now() + 3_600_000;
const client = new ControlClient({
  baseUrl: "https://127.0.0.1:9",
  deviceId: "dev_bob",
  secret: randomToken(32),
});
let dir: string;
let identity: RecorderIdentity;
let streamKey: CryptoKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "relay-read-options-"));
  identity = await loadOrCreateIdentity(dir);
  streamKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["decrypt"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function grant(mode: SessionMode): PendingSession {
  return {
    id: "ses_1",
    password: randomToken(),
    key: randomToken(32),
    duration: 3600,
    expiresAt: LEASE_END,
    connectBy: LEASE_END,
    mode,
    caller: { id: "dev_alice", name: "alice", address: null, port: null },
  };
}

/** A session's work, with its lease armed as the receiver arms a live grant's. */
function work(leased: boolean): SessionWork {
  const w = new SessionWork();
  if (leased) w.armLease(LEASE_END, async () => undefined);
  return w;
}

describe("relayReadOptions()", () => {
  const cases: Array<{
    name: string;
    mode: SessionMode | undefined;
    leased: boolean;
    named: boolean;
    storeKey: boolean;
    maxResumes: number | undefined;
    deadline: number;
  }> = [
    {
      name: "follows a live fallback transfer's resumes until the lease ends, and reads an identity enc",
      mode: "live",
      leased: true,
      named: false,
      storeKey: true,
      maxResumes: Number.POSITIVE_INFINITY,
      deadline: LEASE_END,
    },
    {
      name: "opens a transfer an OFFER named under the connection's key, not the identity's",
      mode: "live",
      leased: true,
      named: true,
      storeKey: false,
      maxResumes: Number.POSITIVE_INFINITY,
      deadline: LEASE_END,
    },
    {
      name: "reads a stored transfer once, with no deadline of its own",
      mode: "store",
      leased: false,
      named: false,
      storeKey: true,
      maxResumes: undefined,
      deadline: Number.POSITIVE_INFINITY,
    },
    {
      name: "does not follow resumes of a live grant whose work has no lease",
      mode: "live",
      leased: false,
      named: false,
      storeKey: true,
      maxResumes: undefined,
      deadline: Number.POSITIVE_INFINITY,
    },
    {
      name: "offers no identity key without a grant",
      mode: undefined,
      leased: false,
      named: false,
      storeKey: false,
      maxResumes: undefined,
      deadline: Number.POSITIVE_INFINITY,
    },
  ];
  for (const c of cases) {
    test(`relayReadOptions() ${c.name}`, () => {
      const w = work(c.leased);
      const job: RelayJob = {
        transferId: "tr_1",
        sessionId: "ses_1",
        ...(c.named ? { stream: 2, key: streamKey } : {}),
      };
      const sessionKey = new Uint8Array(32);
      const o = relayReadOptions(job, {
        client,
        identity,
        grant: c.mode === undefined ? undefined : grant(c.mode),
        sessionKey,
        work: w,
      });
      expect(o.transferId).toBe("tr_1");
      expect(o.sessionId).toBe("ses_1");
      expect(o.sessionKey).toBe(sessionKey);
      expect(o.signal).toBe(w.abort.signal);
      expect(o.storeKey !== undefined).toBe(c.storeKey);
      expect(o.maxResumes).toBe(c.maxResumes);
      expect(o.deadline?.()).toBe(c.deadline);
      expect(o.stream).toBe(c.named ? 2 : undefined);
      expect(o.streamKey).toBe(c.named ? streamKey : undefined);
      w.abort.abort();
    });
  }

  test("relayReadOptions() lets the deadline follow a lease extended after the read began", () => {
    const w = work(true);
    const o = relayReadOptions(
      { transferId: "tr_1", sessionId: "ses_1" },
      { client, identity, grant: grant("live"), sessionKey: new Uint8Array(32), work: w },
    );
    w.leaseEnd = LEASE_END + 60_000;
    expect(o.deadline?.()).toBe(LEASE_END + 60_000);
    w.abort.abort();
  });
});
