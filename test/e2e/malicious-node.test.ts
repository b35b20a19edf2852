/** @module End to end, compiled binary: a node that substitutes a recorder's identity key is refused by the pinned peer (peer_key_changed), and nothing is sent or filed. */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { generateIdentity } from "../../crypto/x25519-identity.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob();
}, 60_000);
afterAll(() => cluster?.[Symbol.asyncDispose]());

/** What a malicious operator does: hand out its own key for a device, straight in the node's database. */
async function substituteKey(name: string): Promise<void> {
  setKey(name, (await generateIdentity()).publicKey);
}

function setKey(name: string, publicKey: string): void {
  const db = new Database(join(cluster.nodeDataDir, "control.db"));
  db.run("PRAGMA busy_timeout = 5000"); // the node writes too (keepalives, checkpoints)
  try {
    const changed = db.run(
      "UPDATE device_identity_keys SET public_key = ? WHERE device_id = (SELECT id FROM devices WHERE name = ?)",
      [publicKey, name],
    ).changes;
    expect(changed).toBe(1);
  } finally {
    db.close();
  }
}

function publishedKey(name: string): string {
  const db = new Database(join(cluster.nodeDataDir, "control.db"), { readonly: true });
  try {
    return db
      .query<{ public_key: string }, [string]>(
        "SELECT public_key FROM device_identity_keys WHERE device_id = (SELECT id FROM devices WHERE name = ?)",
      )
      .get(name)!.public_key;
  } finally {
    db.close();
  }
}

async function peers(name: string): Promise<string> {
  return cluster.ok(["peers", "--data", cluster.recorder(name).dataDir]);
}

test("a substituted callee key: the pinned caller refuses with peer_key_changed and sends nothing; 'peers trust' re-approves", async () => {
  const first = await sendToBob(cluster, SAMPLE);
  expect(first.code).toBe(0);
  const filed = (await libraryOf(cluster, "bob")).length;
  const bobFingerprint = (await peers("bob")).split("\n")[0]!.replace("this recorder", "").trim();
  expect(await peers("alice")).toContain(`bob            ${bobFingerprint}`);

  const real = publishedKey("bob");
  await substituteKey("bob");
  const spoolBefore = (await cluster.admin.spool()).files;
  const refused = await sendToBob(cluster, SAMPLE);
  const s = summaryOf(refused.stdout);
  expect(refused.code).toBe(1);
  expect(s.code).toBe("peer_key_changed");
  expect(s.bytesDirect).toBe(0);
  expect(s.bytesRelay).toBe(0);
  expect((await libraryOf(cluster, "bob")).length).toBe(filed);
  expect((await cluster.admin.spool()).files).toBe(spoolBefore);
  expect(await peers("alice")).toContain("CHANGED to");

  await cluster.ok(["peers", "trust", "bob", "--data", cluster.recorder("alice").dataDir]);
  expect(await peers("alice")).not.toContain("CHANGED");
  setKey("bob", real); // the operator stops substituting: the next test starts from bob's own key
}, 90_000);

test("a substituted caller key: the pinned callee refuses the session and files nothing", async () => {
  const bob = cluster.recorder("bob");
  // carol, untouched by the first test: a send that succeeds first, so bob has pinned her.
  const carol = await cluster.addRecorder("carol");
  await cluster.permit("bob", "carol");
  const send = () => cluster.run(["send", SAMPLE, "--to", "bob", "--json", "--data", carol.dataDir]);
  expect((await send()).code).toBe(0);
  await substituteKey("carol");
  const filed = (await libraryOf(cluster, "bob")).length;
  const mark = bob.proc.lines.length;
  const run = await send();
  expect(run.code).toBe(1);
  // bob ended the session with the refusal's code, so alice stopped at once instead of waiting for a receipt.
  const sessionId = summaryOf(run.stdout).sessionId;
  const ended = (await cluster.admin.sessions("ended")).find((x) => x.id === sessionId);
  expect(ended?.reason).toBe("peer_key_changed");
  await bob.proc.waitForLine(/recorder session-refused .*code=peer_key_changed/, {
    timeoutMs: 15_000,
    since: mark,
  });
  expect((await libraryOf(cluster, "bob")).length).toBe(filed);
  expect(await peers("bob")).toContain("CHANGED to");
}, 90_000);

test("a key substituted before first contact: the transfer does not open, the send fails at once, and the fingerprints differ", async () => {
  await cluster.addRecorder("erin");
  await cluster.permit("erin", "alice");
  await substituteKey("erin");
  const started = Date.now();
  const run = await cluster.recorderRun("alice", ["send", SAMPLE, "--to", "erin", "--json"]);
  expect(run.code).toBe(1);
  // Ended by erin as soon as the relayed part failed to open, not at the end of the hour-long lease.
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(await libraryOf(cluster, "erin")).toEqual([]);
  // What the owners' phone call catches: alice pinned a key that is not erin's.
  const own = (await peers("erin")).split("\n")[0]!.replace("this recorder", "").trim();
  const pinned = (await peers("alice")).split("\n").find((l) => l.startsWith("erin"));
  expect(pinned).toBeDefined();
  expect(pinned).not.toContain(own);
}, 90_000);
