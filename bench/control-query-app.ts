/** @module QUERY→session inside one process: the node's own app and store work per QUERY (no sockets, TLS or recorder round trip), in CPU µs, against a trivial Hono route in the same process. */
/*
 *   bun bench/control-query-app.ts [--devices 100000] [--requests 10000] [--rounds 6]
 *
 * bench/control.ts measures the node as recorders meet it, over HTTPS and UDP; its CPU per QUERY is mostly the
 * server, TLS, the triggers' datagrams and a JIT warming up in a fresh process, and moves by ±100 µs from run to
 * run on a shared machine. This bench runs the node's real Hono app (device auth, nonce, permission, the QUERY
 * checks, session issue, contact ticket, the JSON answer) on a real sqlite file with its checkpoint thread,
 * through app.request(), so what the app and the store cost can be compared before and after a change. The one
 * stand-in is the trigger port: every callee answers its status trigger "acceptable" on the next turn of the event
 * loop (its datagrams and round trip are what bench/control.ts measures). Each round is 16 callers in parallel; the best round counts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { createControlApp, createControlContext } from "../control/control-app.ts";
import { DEFAULT_CONFIG } from "../control/control-config.ts";
import { DeviceStore } from "../control/store/device-store.ts";
import { openControlStore } from "../control/store/open-control-store.ts";
import { toBase64url } from "../crypto/random-token.ts";
import { httpKeyFromSecret, signRequest } from "../protocol/request-signature.ts";
import { permitCallersOfCallees } from "./lib/bench-callees.ts";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string", default: "100000" },
    requests: { type: "string", default: "10000" },
    rounds: { type: "string", default: "6" },
  },
});
const DEVICES = Number(flags.devices);
const REQUESTS = Number(flags.requests);
const ROUNDS = Number(flags.rounds);
const CALLEES = 16;
const CALLERS = 16;

/** CPU µs (user + system, every thread of the process) per call of f, CALLERS calls in flight; the best of ROUNDS. */
async function cpuPerCall(f: (w: number) => Promise<void>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    let i = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, w) => {
        while (i++ < REQUESTS) await f(w);
      }),
    );
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / REQUESTS);
  }
  return best;
}

const dir = mkdtempSync(join(tmpdir(), "pvrlink-bench-query-app-"));
try {
  const db = await openControlStore(join(dir, "control.db"), { checkpointThread: true });
  const names = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(7, "0")}`);
  const devices = await new DeviceStore(db).enrollMany(names);
  // As bench/control.ts: each callee lists a group of its own holding every caller, and is registered.
  await permitCallersOfCallees(db, devices, { names, callees: CALLEES, callers: CALLERS });
  const config = {
    ...DEFAULT_CONFIG,
    rateLimitPerSec: 1e9,
    rateLimitBurst: 1e9,
    allowPrivateAddresses: true,
  };
  const ctx = await createControlContext({
    config,
    store: db,
    adminToken: "adm_bench-query-app-token",
    spoolDir: join(dir, "spool"),
    // Answered on a later turn of the event loop, as a callee's ACK datagram is: a QUERY's writes before the
    // status trigger (its nonce) and after it (its session) then meet the group commit as they do on a node.
    triggers: {
      trigger: () =>
        new Promise<{ answer: string }>((resolve) => setImmediate(() => resolve({ answer: "acceptable" }))),
    },
  });
  for (let i = 0; i < CALLEES; i++) ctx.keepalives.record(devices[i]!.id, "127.0.0.1", 30000 + i, 3600);
  const app = createControlApp(ctx);
  // Write transactions per QUERY: each is a WAL commit (its frames written, its locks taken and dropped).
  let commits = 0;
  const transaction = db.transaction.bind(db);
  db.transaction = (fn) => {
    commits++;
    return transaction(fn);
  };
  const keys = devices.slice(CALLEES, CALLEES + CALLERS).map((d) => httpKeyFromSecret(toBase64url(d.secret)));

  let k = 0;
  const signed = (w: number) => {
    const body = JSON.stringify({ callee: names[k++ % CALLEES] });
    const headers = signRequest({
      deviceId: devices[CALLEES + w]!.id,
      httpKey: keys[w]!,
      method: "POST",
      pathAndQuery: "/v1/query",
      body,
    });
    return new Request("https://127.0.0.1/v1/query", {
      method: "POST",
      body,
      headers: { ...headers, "content-type": "application/json" },
    });
  };
  // What the load side costs in this process (signing, building the request), to take off the QUERY figure.
  const client = await cpuPerCall(async (w) => void signed(w));
  const commitsBefore = commits;
  const query = await cpuPerCall(async (w) => {
    const res = await app.fetch(signed(w));
    if (res.status !== 200) throw new Error(`QUERY answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  });
  const ref = new Hono();
  ref.get("/ping", (c) => c.text("ok"));
  const hono = await cpuPerCall(async () => {
    await (await ref.fetch(new Request("https://127.0.0.1/ping"))).arrayBuffer();
  });
  const node = query - client;
  const commitsEach = (commits - commitsBefore) / (REQUESTS * ROUNDS);
  console.log(
    `QUERY -> session, app and store only: ${node.toFixed(1)} CPU µs each (${query.toFixed(1)} with the client's signing), ${commitsEach.toFixed(2)} store commits each`,
  );
  console.log(
    `trivial Hono route, same process (reference): ${hono.toFixed(1)} CPU µs each; QUERY at ${((hono / node) * 100).toFixed(1)}% of it by CPU`,
  );
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
