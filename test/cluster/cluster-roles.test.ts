/** @module Integration: a cluster on one machine (PostgreSQL, nats-server, an S3 server, 2 UDP nodes, 2 HTTP nodes as real processes): triggers through the owning UDP node, kill -9 of a UDP node and of an HTTP node, and a store-and-forward upload resumed through the surviving HTTP node. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceOwnerStore } from "../../control/cluster/device-owner-store.ts";
import { NatsBus } from "../../control/cluster/nats-bus.ts";
import { triggerSubject } from "../../control/cluster/trigger-request.ts";
import { PostgresDriver } from "../../control/store/postgres-driver.ts";
import { ChildProcess, firstJson, type HostPort, hostPort } from "../../demo/child-process.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { NatsServer } from "../support/nats-server.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { PVRLINK_SOURCE, pvrlink } from "../support/pvrlink-source.ts";
import { S3Server } from "../support/s3-server.ts";

/** The nodes' trigger deadline (control-config default): a dead UDP node must be known well before it. */
const TRIGGER_DEADLINE_MS = 3000;

interface RoleProcess {
  proc: ChildProcess;
  http: HostPort | null;
  udp: HostPort | null;
  nodeId: string | null;
}

let pg: PostgresServer;
let nats: NatsServer;
let store: string;
let data: string;
const procs: ChildProcess[] = [];

/** more: further `control serve` flags (an S3 spool's --spool and --config). */
async function startRole(role: "http" | "udp", more: string[] = []): Promise<RoleProcess> {
  // One data directory per node, as on separate machines (each keeps its own admin token and spool files).
  const dir = mkdtempSync(join(data, `${role}-`));
  // HTTP nodes behind a TLS-terminating balancer serve plain HTTP (docs/operations.md); the UDP role ignores it.
  const args = [
    "control",
    "serve",
    "--role",
    role,
    "--store",
    store,
    "--nats",
    nats.url,
    "--data",
    dir,
    "--insecure-http",
    ...more,
  ];
  args.push("--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--allow-private-addresses");
  const proc = new ChildProcess(`${role} node`, [...PVRLINK_SOURCE, ...args]);
  procs.push(proc);
  const first = await firstJson<{ http: string | null; udp: string | null; nodeId: string | null }>(
    proc,
    "role",
    30_000,
  );
  return {
    proc,
    http: first.http ? hostPort(first.http) : null,
    udp: first.udp ? hostPort(first.udp) : null,
    nodeId: first.nodeId,
  };
}

beforeAll(async () => {
  [pg, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
  store = await pg.freshDatabase();
  data = mkdtempSync(join(tmpdir(), "pvrlink-cluster-"));
}, 60_000);

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  await nats?.[Symbol.asyncDispose]();
  await pg?.[Symbol.asyncDispose]();
  rmSync(data, { recursive: true, force: true });
});

async function enroll(name: string): Promise<{ id: string; name: string; secret: string }> {
  const r = await pvrlink([
    "control",
    "enroll",
    name,
    "--store",
    store,
    "--data",
    data,
    "--public-url",
    "http://x",
  ]);
  if (r.code !== 0) throw new Error(`enroll ${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; name: string; secret: string };
}

test("split roles: a trigger goes through the UDP node that owns the callee, and survives kill -9 of a UDP node and of an HTTP node", async () => {
  const [udpA, udpB, http1, http2] = await Promise.all([
    startRole("udp"),
    startRole("udp"),
    startRole("http"),
    startRole("http"),
  ]);
  expect(udpA.nodeId).not.toBe(udpB.nodeId);
  const [callerCred, calleeCred] = await Promise.all([enroll("caller"), enroll("callee")]);
  const api = (node: RoleProcess, cred: { id: string; secret: string }) =>
    new ControlClient({
      baseUrl: `http://${node.http!.host}:${node.http!.port}`,
      deviceId: cred.id,
      secret: cred.secret,
    });
  const caller1 = api(http1, callerCred);
  const callee1 = api(http1, calleeCred);
  await callee1.register("127.0.0.1", 41000);
  await callee1.updateAllowList({ create: ["caller"] });

  // Before any keepalive: nobody owns the callee, so no HTTP node can reach it.
  expect(await outcomeOf(caller1.query("callee"))).toBe("409 callee_not_connected");

  // The callee keeps alive at UDP node A, which claims it; a QUERY at either HTTP node triggers it through A.
  const onA = await DeviceAgent.start(calleeCred, udpA.udp!);
  await onA.keepalive();
  await using db = new PostgresDriver(store);
  const owners = new DeviceOwnerStore(db);
  await waitFor("A's claim", async () => (await owners.ownerOf(calleeCred.id))?.nodeId === udpA.nodeId);
  const r1 = await caller1.query("callee");
  expect(r1.status).toBe(200);
  expect((await api(http2, callerCred).query("callee")).status).toBe(200);
  expect(onA.triggers.filter((t) => t.kind === "status").length).toBeGreaterThanOrEqual(2);

  // kill -9 of UDP node A: "no responders" answers at once, well inside the trigger deadline.
  await udpA.proc.stop("SIGKILL");
  const t0 = performance.now();
  expect(await outcomeOf(caller1.query("callee"))).toBe("409 callee_not_connected");
  expect(performance.now() - t0).toBeLessThan(TRIGGER_DEADLINE_MS / 2);

  // The recorder moves to UDP node B (its failover); B's claim is newer and wins, and triggers resume through B.
  const onB = await DeviceAgent.start(calleeCred, udpB.udp!);
  const moved = performance.now();
  await onB.keepalive();
  await waitFor("B's claim", async () => (await owners.ownerOf(calleeCred.id))?.nodeId === udpB.nodeId);
  const r2 = await waitFor("a query through B", async () => {
    const o = await caller1.query("callee").catch(() => null);
    return o?.status === 200 ? o : null;
  });
  const gapMs = performance.now() - moved;
  expect(r2.status).toBe(200);
  expect(onB.triggers.some((t) => t.kind === "status")).toBe(true);
  console.error(
    `cluster: triggers resumed through the surviving UDP node ${gapMs.toFixed(0)} ms after its first keepalive`,
  );

  // Garbage on B's trigger subject gets no reply (the requester times out) and changes nothing on B.
  const bus = await NatsBus.connect(nats.url, { name: "test", log: () => {} });
  for (const junk of [new Uint8Array([0xff, 0x00]), new TextEncoder().encode('{"deviceId":1}')])
    expect(await bus.request(triggerSubject(udpB.nodeId!), junk, 300)).toBe("timeout");
  expect(await bus.request(triggerSubject("udp-nobody"), new Uint8Array(1), 3000)).toBe("no-responders");
  await bus.close();

  // kill -9 of an HTTP node: the other serves the same devices, the same sessions (stateless HTTP).
  await http1.proc.stop("SIGKILL");
  const caller2 = api(http2, callerCred);
  const r3 = await caller2.query("callee");
  expect(r3.status).toBe(200);
  if (r1.status === 200) expect((await caller2.session(r1.session.id)).state).toBe("active");
  const pending = await api(http2, calleeCred).pendingSessions();
  expect(pending.map((p) => p.id)).toContain(r3.status === 200 ? r3.session.id : "");
  await onA[Symbol.asyncDispose]();
  await onB[Symbol.asyncDispose]();
}, 120_000);

test("S3 spool: kill -9 of the HTTP node that received part of a stored upload; the recorder's client resumes through the other at the stored offset, byte-identical", async () => {
  await using s3 = await S3Server.start();
  const config = join(data, "s3-node.json");
  writeFileSync(
    config,
    JSON.stringify({ ...s3.spoolConfig("unused"), spool: null, spoolPartBytes: 64 * 1024 }),
  );
  const spool = ["--spool", `s3://${s3.bucket}/cluster`, "--config", config];
  const [httpA, httpB] = await Promise.all([startRole("http", spool), startRole("http", spool)]);
  const [senderCred, receiverCred] = await Promise.all([enroll("s3-sender"), enroll("s3-receiver")]);
  const urlOf = (n: RoleProcess) => `http://${n.http!.host}:${n.http!.port}`;
  // As a recorder whose config lists both HTTP nodes (nodeUrl, nodeUrlFallbacks).
  const client = (cred: { id: string; secret: string }, nodes: RoleProcess[]) =>
    new ControlClient({
      baseUrl: urlOf(nodes[0]!),
      fallbackUrls: nodes.slice(1).map(urlOf),
      deviceId: cred.id,
      secret: cred.secret,
      trust: { kind: "insecure-http" },
    });
  const sender = client(senderCred, [httpA, httpB]);
  const receiver = client(receiverCred, [httpA, httpB]);
  await receiver.register("127.0.0.1", 41001);
  await receiver.updateAllowList({ create: ["s3-sender"] });
  // The receiver is offline: the sender asks to store, and gets a store session.
  const q = await sender.query("s3-receiver", { storeIfBusy: true, size: 700_000 });
  expect(q.status).toBe(202);
  const data700 = new Uint8Array(700_000).map((_, i) => (i * 7 + 3) & 0xff);
  const t = await sender.createTransfer({ session: q.session.id, size: data700.byteLength, kind: "store" });
  // Node A takes 300 KB and the link stalls; A stores whole parts as they fill.
  let pulled = 0;
  const stalled = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (pulled >= 300_000) return new Promise<void>(() => {});
      c.enqueue(data700.slice(pulled, pulled + 50_000));
      pulled += 50_000;
    },
  });
  const onlyA = client(senderCred, [httpA]);
  const inFlight = onlyA.uploadData(t.transfer.id, 0, stalled).catch((e: unknown) => e);
  await waitFor("parts stored through A to show on B", async () => {
    const s = await client(senderCred, [httpB]).transfer(t.transfer.id);
    return s.received >= 4 * 64 * 1024 ? true : undefined;
  });
  await httpA.proc.stop("SIGKILL");
  await inFlight;
  // A is gone: the client's calls fail over to B, which continues A's upload at the stored offset.
  const held = await sender.transfer(t.transfer.id);
  expect(held.complete).toBe(false);
  expect(held.received % (64 * 1024)).toBe(0);
  expect(await sender.uploadData(t.transfer.id, held.received, data700.subarray(held.received))).toEqual({
    received: data700.byteLength,
  });
  const sha256 = createHash("sha256").update(data700).digest("hex");
  expect((await sender.completeTransfer(t.transfer.id, { size: data700.byteLength, sha256 })).complete).toBe(
    true,
  );
  const inbox = await receiver.inbox();
  expect(inbox.map((e) => e.id)).toEqual([t.transfer.id]);
  const got = new Uint8Array(await (await receiver.downloadData(t.transfer.id)).arrayBuffer());
  expect(createHash("sha256").update(got).digest("hex")).toBe(sha256);
  await receiver.ackTransfer(t.transfer.id);
  // Acknowledged: its objects are gone from the bucket.
  const left = await new Bun.S3Client({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  }).list({ prefix: `cluster/${t.transfer.id}/` });
  expect(left.contents ?? []).toEqual([]);
}, 90_000);
