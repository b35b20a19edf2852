/** @module End to end, compiled binary: sends with every process's output captured, which never holds a device secret, a session password or key, or the admin token. */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBase64url } from "../../crypto/random-token.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const lines: string[] = [];
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob({ echo: (label, line) => lines.push(`[${label}] ${line}`) });
}, 60_000);
afterAll(() => cluster?.[Symbol.asyncDispose]());

/** The forms a secret could be printed in: as issued (base64url), as standard base64, as hex. */
function forms(b64url: string): string[] {
  const raw = Buffer.from(fromBase64url(b64url));
  return [b64url, raw.toString("base64").replace(/=+$/, ""), raw.toString("hex")];
}

function deviceSecret(name: string): string {
  const cred = JSON.parse(readFileSync(join(cluster.recorder(name).dataDir, "credential.json"), "utf8"));
  return (cred as { secret: string }).secret;
}

test("a stored secret send and a live video send log no secret, password, key or admin token", async () => {
  const bob = cluster.recorder("bob");
  await cluster.ok(["recorder", "busy", "on", "--data", bob.dataDir]);
  const stored = await sendToBob(cluster, SAMPLE, ["--secret", "--store-if-busy"]);
  lines.push(stored.stdout, stored.stderr);
  expect(summaryOf(stored.stdout).mode).toBe("store");
  // The store grant waits at the node for bob: read its password and key where the node keeps them.
  const db = new Database(join(cluster.nodeDataDir, "control.db"), { readonly: true });
  const grants = db
    .query<{ password: string; key: string }, []>("SELECT password, key FROM pending_grants")
    .all();
  db.close();

  const mark = bob.proc.lines.length;
  await cluster.ok(["recorder", "busy", "off", "--data", bob.dataDir]);
  await bob.proc.waitForLine(/recorder filed /, { timeoutMs: 30_000, since: mark });
  const live = await sendToBob(cluster, SAMPLE);
  lines.push(live.stdout, live.stderr);
  expect(live.code).toBe(0);
  // Live grants bob still holds (sessions.json keeps a key until the session ends or expires).
  const kept = JSON.parse(readFileSync(join(bob.dataDir, "sessions.json"), "utf8")) as {
    sessions: Array<{ session: { key: string; password: string } }>;
  };

  const secrets = [
    ...forms(deviceSecret("alice")),
    ...forms(deviceSecret("bob")),
    cluster.adminToken,
    ...grants.flatMap((g) => [...forms(g.password), ...forms(g.key)]),
    ...kept.sessions.flatMap((k) => [k.session.key, k.session.password].filter((s) => s !== "")),
  ];
  // Bob fetches the store grant as soon as the data arrives (then the node deletes it), so its key is in bob's
  // keyring or still at the node, never nowhere.
  expect(grants.length + kept.sessions.length).toBeGreaterThan(0);
  expect(secrets.length).toBeGreaterThanOrEqual(2 * 3 + 1 + 1);
  const output = lines.join("\n");
  // The control: the capture is real and names what happened.
  expect(output).toContain("recorder filed");
  expect(output.length).toBeGreaterThan(1000);
  expect(secrets.filter((s) => s.length >= 16 && output.includes(s))).toEqual([]);
}, 120_000);
