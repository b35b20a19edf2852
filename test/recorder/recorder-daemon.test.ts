/** @module The recorder daemon against a real control node process: registration, triggers, verdicts, forged triggers, node restart, store-and-forward. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deriveKey } from "../../crypto/hmac.ts";
import { sealStoreKey } from "../../crypto/hpke-store-key.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import type { RecorderStatus } from "../../firmware/recorder/recorder-status-file.ts";
import { RELAY_STREAM_WHOLE, relayKey } from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../../firmware/transfer/relay-stream-encoder.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { encodeTrigger } from "../../protocol/trigger-datagram.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";
import {
  type CalleeStage,
  dialRecorder,
  type RecorderProc,
  startCalleeStage,
} from "../support/recorder-harness.ts";

let stage: CalleeStage;
let node: NodeProcess;
let rec: RecorderProc;
let alice: ControlClient;
let bob: ControlClient;

const status = (): RecorderStatus =>
  JSON.parse(readFileSync(join(rec.dataDir, "recorder-status.json"), "utf8"));

async function queryCode(c: ControlClient, opts: { storeIfBusy?: boolean } = {}): Promise<number | string> {
  try {
    return (await c.query("grandma", opts)).status;
  } catch (err) {
    if (err instanceof ControlApiError) return err.code;
    throw err;
  }
}

async function sendRaw(bytes: Uint8Array): Promise<void> {
  const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  s.send(bytes, status().udpPort, "127.0.0.1");
  s.close();
}

/**
 * Uploads payload as a store transfer the way a sender does: relay stream 3, sealed under the session key (alice
 * has no identity key here, so that is the transfer key), or with `hpke` under the store key for an HPKE enc to
 * grandma's identity key, whose prefix carries that enc or ("swapped") another one, as a node could put there.
 */
async function storeUpload(
  c: ControlClient,
  payload: Uint8Array,
  o: { damage?: boolean; hpke?: "sealed" | "swapped"; name?: string } = {},
): Promise<{ transferId: string; sessionId: string }> {
  const q = await c.query("grandma", { storeIfBusy: true });
  if (q.status !== 202) throw new Error(`expected a store session, got ${q.status}`);
  let key = q.session.key;
  let storeEnc: Uint8Array | undefined;
  if (o.hpke !== undefined) {
    const to = { calleePublicKey: q.callee.publicKey!, transferKey: q.session.key, sessionId: q.session.id };
    const sealed = await sealStoreKey(to);
    key = sealed.key;
    storeEnc = o.hpke === "sealed" ? sealed.enc : (await sealStoreKey(to)).enc;
  }
  const enc = new RelayStreamEncoder(await relayKey(fromBase64url(key)), q.session.id, RELAY_STREAM_WHOLE, {
    storeEnc,
  });
  const parts = [
    await enc.manifest({
      name: o.name ?? "stored.bin",
      kind: "whole",
      size: payload.byteLength,
      originalSize: payload.byteLength,
      sha256: createHash("sha256").update(payload).digest("hex"),
      recordingType: "data",
      secret: false,
      sender: "alice",
    }),
    ...(await enc.data(payload)),
    ...(await enc.end()),
  ];
  const body = Buffer.concat(parts);
  if (o.damage) body[body.length - 40]! ^= 0x01;
  const t = await c.createTransfer({ session: q.session.id, size: body.byteLength, kind: "store" });
  await c.uploadData(t.transfer.id, 0, new Uint8Array(body));
  await c.completeTransfer(t.transfer.id, { size: body.byteLength });
  return { transferId: t.transfer.id, sessionId: q.session.id };
}

beforeAll(async () => {
  stage = await startCalleeStage({ recorderArgs: ["--inbox-every", "2"], permitAlice: false });
  ({ node, rec, alice } = stage);
  bob = node.client(await node.enroll("bob"));
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

describe("recorder daemon with a real control node", () => {
  test("registers the listener with the keepalive's public mapping and writes it to the status file", async () => {
    await rec.log.waitForLine(/recorder registered address=127\.0\.0\.1:\d+ reason="first keepalive answer"/);
    const devices = await node.admin.devices();
    const me = devices.find((d) => d.name === "grandma")!;
    expect(me.registration).toMatchObject({ address: "127.0.0.1", port: rec.direct.port });
    expect(me.connected).toBe(true);
    const s = await waitFor("status file with registration", () =>
      status().registered ? status() : undefined,
    );
    expect(s.mapped).toBe(`127.0.0.1:${s.udpPort}`);
    expect(s.nodeReachable).toBe(true);
    const cli = await pvrlink(["recorder", "status", "--data", rec.dataDir, "--json"]);
    const j = JSON.parse(cli.stdout) as { daemon: { running: boolean; mapped: string } };
    expect(j.daemon.running).toBe(true);
    expect(j.daemon.mapped).toBe(s.mapped!);
  }, 20_000);

  test("a status trigger is answered acceptable, then busy with the operator switch on", async () => {
    expect((await pvrlink(["permit", "add", "alice", "--data", rec.dataDir])).code).toBe(0);
    const from = rec.log.mark();
    expect(await queryCode(alice)).toBe(200);
    await rec.log.waitForLine(/trigger kind=status .*answer=acceptable/, { since: from });
    await rec.log.waitForLine(/recorder session session=ses_\S+ mode=live caller=alice/, { since: from });
    expect((await pvrlink(["recorder", "busy", "on", "--data", rec.dataDir])).code).toBe(0);
    expect(await queryCode(alice)).toBe("callee_busy");
    await rec.log.waitForLine(/trigger kind=status .*answer=busy/, { since: from });
    expect((await pvrlink(["recorder", "busy", "off", "--data", rec.dataDir])).code).toBe(0);
    expect(await queryCode(alice)).toBe(200);
  }, 20_000);

  test("a verdict trigger is answered from the device-held list and its local groups", async () => {
    const d = ["--data", rec.dataDir];
    expect((await pvrlink(["permit", "policy", "device", ...d])).code).toBe(0);
    expect((await pvrlink(["permit", "group", "create", "family", ...d])).code).toBe(0);
    expect((await pvrlink(["permit", "group", "add", "family", "Alice", ...d])).code).toBe(0);
    expect((await pvrlink(["permit", "set", "@family", ...d])).code).toBe(0);
    const from = rec.log.mark();
    expect(await queryCode(alice)).toBe(200);
    await rec.log.waitForLine(/trigger kind=verdict .*answer=allow/, { since: from });
    expect(await queryCode(bob)).toBe("permission_denied");
    await rec.log.waitForLine(/trigger kind=verdict .*answer=deny/, { since: from });
    expect(JSON.parse((await pvrlink(["permit", "list", "--json", ...d])).stdout)).toEqual({
      policy: "device",
      entries: ["@family"],
    });
  }, 20_000);

  test("forged, stale and replayed triggers are rejected or not acted on twice", async () => {
    const key = deriveKey(fromBase64url(rec.secret), "trigger");
    const from = rec.log.mark();
    const forged = encodeTrigger(
      { deviceId: rec.device, kind: "end", ref: { session: "ses_x" }, timestamp: Date.now() },
      new Uint8Array(32),
    );
    await sendRaw(forged.bytes);
    await rec.log.waitForLine(/trigger-rejected code=ERR_TRIGGER_BAD_TAG/, { since: from });
    const stale = encodeTrigger(
      { deviceId: rec.device, kind: "status", ref: {}, timestamp: Date.now() - 5 * 60_000 },
      key,
    );
    await sendRaw(stale.bytes);
    await rec.log.waitForLine(/trigger-rejected code=ERR_TRIGGER_STALE/, { since: from });
    const other = encodeTrigger(
      { deviceId: "dev_someoneelse00", kind: "status", ref: {}, timestamp: Date.now() },
      key,
    );
    await sendRaw(other.bytes);
    await rec.log.waitForLine(/trigger-rejected code=ERR_TRIGGER_WRONG_DEVICE/, { since: from });
    await sendRaw(new Uint8Array([0x50, 0x56, 0x54, 0x47, 1, 1, 0, 0]));
    await rec.log.waitForLine(/trigger-rejected code=ERR_TRIGGER_MALFORMED/, { since: from });
    const valid = encodeTrigger(
      { deviceId: rec.device, kind: "end", ref: { session: "ses_replay" }, timestamp: Date.now() },
      key,
    );
    await sendRaw(valid.bytes);
    await rec.log.waitForLine(/session-ended session=ses_replay/, { since: from });
    await sendRaw(valid.bytes);
    await rec.log.waitForLine(new RegExp(`trigger-duplicate kind=end id=${valid.id}`), { since: from });
    expect(
      rec.log.lines.slice(from).filter((l) => l.includes("session-ended session=ses_replay")),
    ).toHaveLength(1);
    // The daemon is still serving the node after all that.
    expect(await queryCode(alice)).toBe(200);
  }, 20_000);

  test("600 garbage datagrams (random, STUN-shaped, trigger-shaped) leave the UDP loop serving", async () => {
    const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const port = status().udpPort;
    let seed = 99;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let i = 0; i < 600; i++) {
      const b = new Uint8Array(Math.floor(rand() * 1400)).map(() => Math.floor(rand() * 256));
      if (b.length >= 20 && i % 3 === 0) b.set([0x01, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42], 0); // Binding Success header
      if (b.length >= 8 && i % 3 === 1) b.set([0x50, 0x56, 0x54, 0x47, 1, 1], 0); // trigger magic
      s.send(b, port, "127.0.0.1");
      if (i % 50 === 0) await Bun.sleep(1); // let the daemon read; a full socket buffer would drop, not test
    }
    s.close();
    expect(await queryCode(alice)).toBe(200);
    expect(rec.log.exitCode).toBeNull();
  }, 20_000);

  test("a data recording sent on the direct channel is verified, filed and receipted", async () => {
    const q = await alice.query("grandma");
    if (q.status !== 200) throw new Error("expected a live session");
    const from = rec.log.mark();
    await rec.log.waitForLine(new RegExp(`recorder session session=${q.session.id}`), { since: from });
    const conn = await dialRecorder(rec, alice, q.session);
    const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const sha256 = createHash("sha256").update(payload).digest("hex");
    await conn.send({
      type: "offer",
      kind: "data",
      size: payload.byteLength,
      name: "notes.bin",
      meta: { sha256, recordingType: "data", secret: false },
    });
    await conn.sendData(payload);
    await conn.send({ type: "end", size: payload.byteLength, sha256 });
    const receipt = await conn.receive();
    expect(receipt).toEqual({ type: "receipt", ok: true, bytes: payload.byteLength, sha256 });
    await conn.close();
    const lib = JSON.parse(
      (await pvrlink(["library", "list", "--json", "--data", rec.dataDir])).stdout,
    ) as Array<{ name: string; sha256: string; sender: string; path: string }>;
    const got = lib.find((r) => r.name === "notes.bin")!;
    expect(got).toMatchObject({ sha256, sender: "alice" });
    expect(createHash("sha256").update(readFileSync(got.path)).digest("hex")).toBe(sha256);
  }, 20_000);

  test("store-and-forward: picked up only after the load drops; a corrupt item is reported and never filed", async () => {
    const d = ["--data", rec.dataDir];
    expect((await pvrlink(["recorder", "busy", "on", ...d])).code).toBe(0);
    const from = rec.log.mark();
    const payload = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    const good = await storeUpload(alice, payload);
    await rec.log.waitForLine(new RegExp(`pickup-deferred id=${good.transferId} reason=busy`), {
      since: from,
      timeoutMs: 15_000,
    });
    const bad = await storeUpload(alice, payload, { damage: true });
    const waiting = await waitFor("status shows the pickup waiting", () =>
      status().inbox.waitingForLoad ? status() : undefined,
    );
    expect(waiting.inbox.pending).toBeGreaterThan(0);
    expect(readdirSync(join(rec.dataDir, "library")).filter((f) => f.startsWith("rec_"))).toHaveLength(1);
    expect((await pvrlink(["recorder", "busy", "off", ...d])).code).toBe(0);
    await rec.log.waitForLine(new RegExp(`pickup-filed id=${good.transferId}`), {
      since: from,
      timeoutMs: 15_000,
    });
    await rec.log.waitForLine(
      new RegExp(`pickup-rejected id=${bad.transferId} code=(decrypt_failed|integrity_failed)`),
      { since: from, timeoutMs: 15_000 },
    );
    const left = await node.client({ id: rec.device, secret: rec.secret }).inbox();
    expect(left.map((e) => e.id)).toEqual([bad.transferId]);
    const files = readdirSync(join(rec.dataDir, "library")).filter((f) => f.startsWith("rec_"));
    expect(files).toHaveLength(2);
    expect(readdirSync(join(rec.dataDir, "library", ".incoming"))).toEqual([]);
    // The daemon writes its status file a moment after the log line (coalesced writes): wait for the mark.
    await waitFor("status marks the corrupt item rejected", () =>
      status().inbox.failed.some((f) => f.id === bad.transferId),
    );
    const inbox = JSON.parse((await pvrlink(["inbox", "--json", ...d])).stdout) as {
      pending: Array<{ id: string; rejected?: string }>;
      received: Array<{ name: string }>;
    };
    expect(inbox.pending.find((p) => p.id === bad.transferId)?.rejected).toMatch(
      /decrypt_failed|integrity_failed/,
    );
    expect(inbox.received.map((r) => r.name).sort()).toEqual(["notes.bin", "stored.bin"]);
  }, 40_000);

  test("store-and-forward with HPKE: a stream with its enc to this recorder is filed; the same stream behind another enc is rejected", async () => {
    const d = ["--data", rec.dataDir];
    expect((await pvrlink(["recorder", "busy", "on", ...d])).code).toBe(0);
    const from = rec.log.mark();
    const payload = new Uint8Array(150_000).map((_, i) => (i * 7 + 1) & 0xff);
    const good = await storeUpload(alice, payload, { hpke: "sealed", name: "hpke.bin" });
    const other = payload.map((b) => b ^ 0x5a);
    const swapped = await storeUpload(alice, other, { hpke: "swapped", name: "swapped.bin" });
    expect((await pvrlink(["recorder", "busy", "off", ...d])).code).toBe(0);
    await rec.log.waitForLine(new RegExp(`pickup-filed id=${good.transferId}`), {
      since: from,
      timeoutMs: 15_000,
    });
    await rec.log.waitForLine(new RegExp(`pickup-rejected id=${swapped.transferId} code=decrypt_failed`), {
      since: from,
      timeoutMs: 15_000,
    });
    const filed = readdirSync(join(rec.dataDir, "library")).filter((f) => f.startsWith("rec_"));
    const hpke = filed.map((f) => readFileSync(join(rec.dataDir, "library", f)));
    expect(hpke.some((b) => Buffer.from(payload).equals(b))).toBe(true);
    expect(readdirSync(join(rec.dataDir, "library", ".incoming"))).toEqual([]);
  }, 30_000);

  test("the node killed and restarted on the same ports: the daemon notices and re-registers by itself", async () => {
    expect((await pvrlink(["recorder", "busy", "off", "--data", rec.dataDir])).code).toBe(0);
    const http = node.httpAddr;
    const udp = node.udpAddr;
    const from = rec.log.mark();
    await node.stop("SIGKILL");
    await rec.log.waitForLine(/mapping-lost misses=3/, { since: from, timeoutMs: 20_000 });
    expect(existsSync(join(rec.dataDir, "recorder-status.json"))).toBe(true);
    expect(
      await waitFor("status shows the node unreachable", () => (status().nodeReachable ? undefined : true)),
    ).toBe(true);
    node = await startNode({ dataDir: node.dataDir, http, udp });
    stage.node = node;
    await rec.log.waitForLine(/registered address=127\.0\.0\.1:\d+ reason="node answered again"/, {
      since: from,
      timeoutMs: 20_000,
    });
    expect(await queryCode(alice)).toBe(200);
  }, 45_000);
});
