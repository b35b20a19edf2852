/** @module Integration, compiled binary: issue 16's cluster test: real recorder daemons against PostgreSQL, nats-server, s3rver, 2 HTTP and 2 UDP nodes; kill -9 of a UDP node during queries, then of an HTTP node during a split send and a store-and-forward upload. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeviceOwnerStore } from "../../control/cluster/device-owner-store.ts";
import { PostgresDriver } from "../../control/store/postgres-driver.ts";
import type { RunResult } from "../../demo/child-process.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";
import {
  ClusterStage,
  KEEPALIVE_SECONDS,
  PART_BYTES,
  type RoleNode,
  type StageRecorder,
} from "./cluster-stage.ts";

let stage: ClusterStage;
let db: PostgresDriver;
let http: RoleNode[];
let udp: RoleNode[];
let alice: StageRecorder;
let bob: StageRecorder;
let carol: StageRecorder;
/** A real MPEG-2 elementary stream, long enough for a throttled upload to be under way when a node dies. */
let video: string;
/** Every session the test's own QUERYs got, to check the store against. */
const querySessions = new Set<string>();
/** The sessions of the sends (split, store and any `--resume`), from their summaries. */
const sendSessions = new Set<string>();

beforeAll(async () => {
  stage = await ClusterStage.start();
  db = new PostgresDriver(stage.store);
  udp = await Promise.all([stage.startNode("udp"), stage.startNode("udp")]);
  http = await Promise.all([stage.startNode("http"), stage.startNode("http")]);
  // Every recorder lists both UDP endpoints and both HTTP URLs, the first of each first.
  [alice, bob, carol] = (await Promise.all(
    ["alice", "bob", "carol"].map((n) => stage.addRecorder(n, http, udp)),
  )) as [StageRecorder, StageRecorder, StageRecorder];
  for (const [callee, caller] of [
    ["bob", "alice"],
    ["carol", "alice"],
  ] as const)
    await stage.ok(["permit", "add", caller, "--data", stage.recorders.get(callee)!.dataDir]);
  const owners = new DeviceOwnerStore(db);
  await waitFor(
    "every recorder to keep alive at UDP node A and register",
    async () => {
      for (const r of [alice, bob, carol]) {
        if ((await owners.ownerOf(r.id))?.nodeId !== udp[0]!.nodeId) return false;
        const reg = await db.get("SELECT 1 AS one FROM registrations WHERE device_id = ?", [r.id]);
        if (!reg) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const gop = readFileSync(join(ROOT, "testdata/es/mpeg2-gop15.m2v"));
  video = join(stage.root, "long.m2v");
  writeFileSync(video, Buffer.concat(Array.from({ length: 12 }, () => gop)));
}, 120_000);

afterAll(async () => {
  await db?.close();
  await stage?.[Symbol.asyncDispose]();
});

const aliceApi = (): ControlClient =>
  new ControlClient({
    baseUrl: `http://${http[0]!.http!.host}:${http[0]!.http!.port}`,
    fallbackUrls: [`http://${http[1]!.http!.host}:${http[1]!.http!.port}`],
    deviceId: alice.id,
    secret: alice.secret,
    trust: { kind: "insecure-http" },
  });

/** A QUERY's outcome: "200" (the callee's daemon answered the trigger), or the refusal's status and code. */
async function queryBob(api: ControlClient): Promise<string> {
  try {
    const r = await api.query("bob");
    querySessions.add(r.session.id);
    // Nobody will dial: the caller ends it, as a recorder that changed its mind does.
    await api.end(r.session.id, { reason: "completed", bytesDirect: 0, bytesRelay: 0 });
    return String(r.status);
  } catch (err) {
    const e = err as { status?: number; code?: string };
    return `${e.status} ${e.code}`;
  }
}

test("kill -9 of the UDP node that owns the callee during queries: triggers resume through the survivor within two keepalive intervals of the recorder moving", async () => {
  const api = aliceApi();
  expect(await queryBob(api)).toBe("200");
  const since = bob.proc.mark();
  await udp[0]!.proc.stop("SIGKILL");
  const killedAt = Date.now();
  // Queries keep coming while bob is unreachable: each one answers at once with a clear, retryable code.
  const outcomes: Array<{ at: number; outcome: string }> = [];
  const firstThroughB = await waitFor(
    "a QUERY to bob through UDP node B",
    async () => {
      const outcome = await queryBob(api);
      outcomes.push({ at: Date.now(), outcome });
      return outcome === "200" ? Date.now() : null;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const refusals = new Set(outcomes.filter((o) => o.outcome !== "200").map((o) => o.outcome));
  expect([...refusals].filter((o) => o !== "409 callee_not_connected")).toEqual([]);
  // The clock starts when bob's daemon notices: its "node-endpoint-moved" line, logged on the third unanswered
  // keepalive as it switches to the next endpoint (its own timestamp, this machine's clock). The issue's "within
  // two keepalive intervals" is from there: the daemon sends its first keepalive to B at once (NodeLink), B claims
  // it (device_owner), and the next QUERY's trigger goes through B. The 13-18 s from the kill to the move are the
  // three unanswered keepalives that the rule needs to call A dead; they are printed, not asserted.
  const moved = await bob.proc.waitForLine(/^(\S+) \S+ recorder node-endpoint-moved /, {
    since,
    timeoutMs: 1,
  });
  const movedAt = Date.parse(moved[1]!);
  const gapMs = firstThroughB - movedAt;
  const owner = await new DeviceOwnerStore(db).ownerOf(bob.id);
  expect(owner?.nodeId).toBe(udp[1]!.nodeId);
  console.error(
    `cluster failover: kill -9 of UDP node A at +0 ms; bob moved to B at +${movedAt - killedAt} ms; ` +
      `first trigger through B answered ${gapMs} ms after the move (${outcomes.length} queries, keepalive ${KEEPALIVE_SECONDS} s)`,
  );
  expect(gapMs).toBeGreaterThanOrEqual(0);
  expect(gapMs).toBeLessThanOrEqual(2 * KEEPALIVE_SECONDS * 1000);
  // The other recorders moved too: the survivor owns all three.
  await waitFor(
    "alice and carol at UDP node B",
    async () => {
      for (const r of [alice, carol])
        if ((await new DeviceOwnerStore(db).ownerOf(r.id))?.nodeId !== udp[1]!.nodeId) return false;
      return true;
    },
    { timeoutMs: 4 * KEEPALIVE_SECONDS * 1000, intervalMs: 100 },
  );
}, 120_000);

/** A proxy's rate once its upload is where the kill wants it: slow enough to still be running at the kill. */
const TRICKLE_BYTES_PER_SEC = 2_000;

/** SENDER's newest transfer of `kind` in the spool index, with what the store says it holds. */
async function transferOf(sender: string, kind: "relay" | "store") {
  return db.get<{ id: string; received: string | number; size: string | number; complete: number }>(
    "SELECT id, received, size, complete FROM spool_transfers WHERE sender_id = ? AND kind = ? ORDER BY created_at DESC LIMIT 1",
    [sender, kind],
  );
}

/** `pvrlink send` as alice, through a throttled proxy in front of HTTP node A (the node she talks to first). */
function sendThrough(tap: Tap, to: string, flags: string[] = []): Promise<RunResult> {
  return stage.run([
    ...["send", video, "--to", to, "--json", ...flags, "--data", alice.dataDir],
    ...["--node", `http://127.0.0.1:${tap.port}`],
  ]);
}

test("kill -9 of HTTP node A during a split send and a store-and-forward upload: both complete through B (at the stored offset), byte-identical", async () => {
  // carol's box is off: alice's send to her is stored. bob is on: alice's send to him is split.
  await carol.proc.stop("SIGTERM");
  await using splitTap = await Tap.start(http[0]!.http!, 40_000);
  await using storeTap = await Tap.start(http[0]!.http!, 60_000);
  const split = sendThrough(splitTap, "bob", ["--protection", "seed"]);
  const store = sendThrough(storeTap, "carol", ["--store-if-busy"]);
  // Both uploads are under way at A, each with whole parts stored and acknowledged. Once one has, its proxy slows
  // to a trickle, so that neither can finish before the other gets there (a loaded machine shifts both starts).
  const hold = async (tap: Tap, kind: "relay" | "store", parts: number) => {
    const t = await transferOf(alice.id, kind);
    if (t && Number(t.received) >= parts * PART_BYTES) tap.rateBytesPerSec = TRICKLE_BYTES_PER_SEC;
    return tap.rateBytesPerSec === TRICKLE_BYTES_PER_SEC ? t : null;
  };
  const [relayAtKill, storeAtKill] = await waitFor(
    "both uploads part-way through at A",
    async () => {
      const [r, s] = await Promise.all([hold(splitTap, "relay", 1), hold(storeTap, "store", 2)]);
      return r && s ? [r, s] : null;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  expect(Number(relayAtKill.received)).toBeLessThan(Number(relayAtKill.size));
  expect(Number(storeAtKill.received)).toBeLessThan(Number(storeAtKill.size));
  // QUERYs to bob keep going at HTTP node A first: one in flight when A dies is sent again to B (same
  // idempotency key), and every one is answered, or refused with a clear code.
  const queries: string[] = [];
  let querying = true;
  const queryLoop = (async () => {
    const api = aliceApi();
    while (querying) {
      queries.push(await queryBob(api));
      await Bun.sleep(50);
    }
  })();
  await waitFor("a QUERY answered at A before the kill", () => queries.includes("200"), {
    timeoutMs: 30_000,
  });
  await http[0]!.proc.stop("SIGKILL");
  const [splitRun, storeRun] = await Promise.all([split, store]);
  querying = false;
  await queryLoop;
  console.error(
    `cluster: QUERYs around the HTTP kill: ${queries.length}, refused: ${queries.filter((q) => q !== "200")}`,
  );
  for (const q of queries) expect(q).toMatch(/^(200|\d{3} [a-z_]+)$/);
  expect(queries.at(-1)).toBe("200");
  const splitDone = await completedOrResumed(splitRun, "bob", ["--protection", "seed"]);
  const storeDone = await completedOrResumed(storeRun, "carol", ["--store-if-busy"]);
  expect(splitDone.summary.route).toBe("split");
  expect(storeDone.summary.mode).toBe("store");
  // Each upload went on from what the store held when A died (whole stored parts, at least what it held just
  // before the kill), not from zero, and through B: A is dead.
  for (const [done, atKill] of [
    [splitDone, relayAtKill],
    [storeDone, storeAtKill],
  ] as const) {
    expect(done.resumedAt).toBeGreaterThanOrEqual(Number(atKill.received));
    expect(done.resumedAt % PART_BYTES).toBe(0);
    expect(done.summary.transfers).toContain(atKill.id);
  }
  const held = await db.get<{ complete: number }>("SELECT complete FROM spool_transfers WHERE id = ?", [
    storeAtKill.id,
  ]);
  expect(held?.complete).toBe(1);
  const want = await sha256File(video);
  // bob filed the split send byte-identical.
  await waitFor("bob to file the split send", async () => (await libraryShas(bob)).includes(want), {
    timeoutMs: 30_000,
  });
  // carol comes back, picks up the stored one through B, and files it byte-identical.
  const back = await stage.restartRecorder("carol");
  await back.proc.waitForLine(/recorder (pickup-filed|filed) /, { timeoutMs: 60_000 });
  const filed = JSON.parse(await stage.ok(["library", "list", "--json", "--data", carol.dataDir])) as Array<{
    sha256: string;
    path: string;
  }>;
  const got = filed.find((e) => e.sha256 === want);
  expect(await sha256File(got?.path ?? "")).toBe(want);
}, 180_000);

async function libraryShas(r: StageRecorder): Promise<string[]> {
  const list = JSON.parse(await stage.ok(["library", "list", "--json", "--data", r.dataDir])) as Array<{
    sha256: string;
  }>;
  return list.map((e) => e.sha256);
}

/** The byte offset a send's upload resumed at after an interruption ("resuming at byte N"), or -1. */
function resumedAtIn(stdout: string): number {
  const m = /resuming at byte (\d+)/.exec(stdout);
  return m ? Number(m[1]) : -1;
}

/**
 * The send's summary and where its upload resumed: it completed by itself (its client went on at B), or it
 * failed with a clear code and `send --resume` finished it.
 */
async function completedOrResumed(run: RunResult, to: string, flags: string[]) {
  const first = summaryOf(run.stdout);
  if (first.sessionId) sendSessions.add(first.sessionId);
  if (run.code === 0 && first.ok) return { summary: first, resumedAt: resumedAtIn(run.stdout) };
  expect(first.code ?? "").toMatch(/^[a-z_]+$/);
  console.error(`cluster: send to ${to} ended with ${first.code} when HTTP node A died; resuming`);
  const again = await stage.run([
    "send",
    video,
    "--to",
    to,
    "--json",
    "--resume",
    ...flags,
    "--data",
    alice.dataDir,
  ]);
  const s = summaryOf(again.stdout);
  if (s.sessionId) sendSessions.add(s.sessionId);
  expect({ code: again.code, ok: s.ok }).toEqual({ code: 0, ok: true });
  return { summary: s, resumedAt: s.resumedFrom ?? resumedAtIn(again.stdout) };
}

test("afterwards: no session active, no QUERY or upload duplicated by a retry, exactly one accounting row per session", async () => {
  await waitFor(
    "every session to end",
    async () =>
      Number(
        (await db.get<{ n: string | number }>("SELECT count(*) AS n FROM sessions WHERE state = 'active'"))
          ?.n,
      ) === 0,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // The store holds the sessions the test's QUERYs and sends were given, and no other live one: a QUERY or
  // POST /v1/transfers retried on the other node (idempotency key) made no second session that stayed.
  const sessions = await db.all<{ id: string; caller_id: string; callee_id: string; end_reason: string }>(
    "SELECT id, caller_id, callee_id, end_reason FROM sessions ORDER BY id",
  );
  // Those it was never told of can only be a QUERY attempt that A took but never answered before it died,
  // superseded by the retry at B.
  const known = new Set([...querySessions, ...sendSessions]);
  expect([...known].filter((id) => !sessions.some((s) => s.id === id))).toEqual([]);
  for (const u of sessions.filter((x) => !known.has(x.id))) expect(u.end_reason).toBe("superseded");
  const rows = await db.all<{
    session_id: string;
    n: string | number;
    ended_by: string;
    reason: string;
    caller_reported_at: number | null;
    callee_reported_at: number | null;
  }>(
    `SELECT a.session_id, (SELECT count(*) FROM accounting x WHERE x.session_id = a.session_id) AS n, a.ended_by,
       a.reason, a.caller_reported_at, a.callee_reported_at
     FROM accounting a ORDER BY a.session_id`,
  );
  const superseded = sessions.filter((x) => !known.has(x.id)).length;
  const both = rows.filter((r) => r.caller_reported_at !== null && r.callee_reported_at !== null).length;
  console.error(
    `cluster: ${sessions.length} sessions (${superseded} superseded), ${rows.length} accounting rows (${both} with both peers' reports)`,
  );
  // Exactly one row per session, and no row without a session: the peers' reports (retried across the kills)
  // were merged into it, never added beside it.
  expect(rows.map((r) => r.session_id)).toEqual(sessions.map((s) => s.id));
  expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
  for (const s of sessions) {
    const row = rows.find((r) => r.session_id === s.id)!;
    expect([s.caller_id, s.callee_id, "node"]).toContain(row.ended_by);
    // A QUERY the caller ended: its report alone (nobody dialled, so the callee had nothing to report).
    if (querySessions.has(s.id))
      expect({ endedBy: row.ended_by, callee: row.callee_reported_at }).toEqual({
        endedBy: alice.id,
        callee: null,
      });
    // A send: the sender reported its end.
    if (sendSessions.has(s.id)) expect(row.caller_reported_at).not.toBeNull();
    if (!known.has(s.id))
      expect({ endedBy: row.ended_by, reason: row.reason }).toEqual({
        endedBy: "node",
        reason: "superseded",
      });
  }
}, 90_000);
