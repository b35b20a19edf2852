/** @module End to end, compiled binary: over sends of each kind, the operator's full view (every byte to and from its node, decrypted with the node's TLS key; its data directory; its log) holds no key and no byte of an I-picture or a secret recording until handed the recorders' key files (the callee's, for a stored one: HPKE), and the wire (TLS, the direct channel) carries no password, key or secret. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStoreKey } from "../../crypto/hpke-store-key.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { mixSessionKey } from "../../crypto/x25519-agreement.ts";
import { loadIdentityPrivateKey } from "../../crypto/x25519-identity.ts";
import { hostPort } from "../../demo/child-process.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { IDENTITY_KEY_FILE } from "../../firmware/identity/identity-key-file.ts";
import {
  parseStorePrefix,
  type RelayStreamId,
  relayKey,
  STORE_PREFIX_BYTES,
} from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamDecoder } from "../../firmware/transfer/relay-stream-decoder.ts";
import { protectedRangesOf, windowsInside } from "../support/byte-windows.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { startCluster } from "../support/e2e-stage.ts";
import { filesUnder } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { OperatorProxy } from "./operator-proxy.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const nodeLog: string[] = [];
let cluster: Cluster;
let operator: OperatorProxy;
/** The wire as an eavesdropper records it: recorders to the node (TLS), and alice to bob's direct listener. */
let nodeWire: Tap;
let directWire: Tap;

beforeAll(async () => {
  cluster = await startCluster({ echo: (label, line) => label === "node" && nodeLog.push(line) });
  operator = new OperatorProxy(cluster.nodeDataDir, cluster.nodeUrl, cluster.pin);
  nodeWire = await Tap.start(hostPort(operator.url.replace("https://", "")));
  for (const name of ["alice", "bob"]) await cluster.addRecorder(name, { args: ["--node", nodeUrl()] });
  directWire = await Tap.start(cluster.recorder("bob").direct);
  await cluster.permit("bob", "alice");
}, 60_000);
afterAll(async () => {
  await directWire?.[Symbol.asyncDispose]();
  await nodeWire?.[Symbol.asyncDispose]();
  operator?.[Symbol.dispose]();
  await cluster?.[Symbol.asyncDispose]();
});

const nodeUrl = () => `https://127.0.0.1:${nodeWire.port}`;

async function send(file: string, flags: string[]): Promise<void> {
  const direct = flags.includes("--direct") ? [] : ["--direct", `127.0.0.1:${directWire.port}`];
  const run = await cluster.recorderRun("alice", [
    "send",
    file,
    "--to",
    "bob",
    "--json",
    "--node",
    nodeUrl(),
    ...direct,
    ...flags,
  ]);
  expect({ flags, code: run.code }).toEqual({ flags, code: 0 });
}

/** The callee's identity key pair, for a stored stream's HPKE enc. */
type Callee = { privateKey: CryptoKey; publicKey: string };

/**
 * Every relay payload the capture holds that opens under one of the keys, for any stream. A stored stream (HPKE
 * prefix) opens only with the callee's identity key too: without it, its records are tried under the key as is.
 */
async function openAll(keys: Array<{ id: string; key: string }>, callee?: Callee): Promise<Buffer> {
  const bodies = new Map<string, Buffer[]>();
  for (const e of operator.exchanges) {
    const m = /^\/v1\/transfers\/([^/]+)\/data$/.exec(e.path);
    if (e.method === "PUT" && m) bodies.set(m[1]!, [...(bodies.get(m[1]!) ?? []), e.request]);
  }
  const out: Buffer[] = [];
  for (const parts of bodies.values()) {
    const sealed = new Uint8Array(Buffer.concat(parts));
    const prefix = parseStorePrefix(sealed);
    for (const { id, key } of keys) {
      if (typeof prefix !== "string") {
        out.push(await openStored(sealed.subarray(STORE_PREFIX_BYTES), { id, key, enc: prefix.enc, callee }));
        continue;
      }
      for (const stream of [1, 2, 3] as RelayStreamId[]) {
        try {
          const dec = new RelayStreamDecoder(await relayKey(fromBase64url(key)), id, stream);
          for (const r of await dec.push(sealed)) if (r.type === "data") out.push(Buffer.from(r.bytes));
        } catch {
          // not this session's or stream's key
        }
      }
    }
  }
  return Buffer.concat(out);
}

/**
 * A stream sealed to the callee (HPKE prefix: a stored one, or a fallback's), under the HPKE key when the callee's
 * key is at hand, else under `key` as is; any of the three stream ids.
 */
async function openStored(
  records: Uint8Array,
  o: { id: string; key: string; enc: Uint8Array; callee: Callee | undefined },
): Promise<Buffer> {
  let key = o.key;
  try {
    if (o.callee)
      key = await openStoreKey({
        enc: o.enc,
        calleePrivateKey: o.callee.privateKey,
        calleePublicKey: o.callee.publicKey,
        transferKey: o.key,
        sessionId: o.id,
      });
  } catch {
    return Buffer.alloc(0); // not this session's enc
  }
  const out: Uint8Array[] = [];
  for (const stream of [1, 2, 3] as RelayStreamId[]) {
    try {
      const dec = new RelayStreamDecoder(await relayKey(fromBase64url(key)), o.id, stream, {
        storeEnc: o.enc,
      });
      for (const r of await dec.push(records)) if (r.type === "data") out.push(r.bytes);
    } catch {
      // not this session's key or stream
    }
  }
  return Buffer.concat(out);
}

test("secret, sealed, seed and pattern video, relay fallback and store-and-forward: nothing readable at the node", async () => {
  const bob = cluster.recorder("bob");
  const secret = join(cluster.root, "secret.bin");
  const stored = join(cluster.root, "stored.bin");
  writeFileSync(secret, randomBytes(150_000));
  writeFileSync(stored, randomBytes(120_000));
  // The default protection first: its direct channel, as the eavesdropper records it, on its own.
  const directBefore = directWire.up.length;
  await send(SAMPLE, []);
  const sealedDirect = Buffer.concat(directWire.up.slice(directBefore));
  await send(secret, ["--secret"]);
  await send(SAMPLE, ["--protection", "seed"]);
  await send(SAMPLE, ["--protection", "pattern"]);
  await send(SAMPLE, ["--direct", "127.0.0.1:1"]); // no direct channel: everything through the relay
  await cluster.ok(["recorder", "busy", "on", "--data", bob.dataDir]);
  await send(stored, ["--secret", "--store-if-busy"]);
  const mark = bob.proc.lines.length;
  await cluster.ok(["recorder", "busy", "off", "--data", bob.dataDir]);
  await bob.proc.waitForLine(/recorder filed .*stored\.bin/, { timeoutMs: 30_000, since: mark });

  const video = readFileSync(SAMPLE);
  const iPictures = windowsInside(video, protectedRangesOf(video).ranges, 24);
  const windows = [
    ...iPictures,
    ...[secret, stored].flatMap((f) => {
      const b = readFileSync(f);
      return [0, 5000, b.length >> 1, b.length - 32].map((o) => b.subarray(o, o + 32));
    }),
  ];
  expect(iPictures.length).toBeGreaterThanOrEqual(12);

  // The content keys, computed here from the capture and both recorders' key files (the operator has no such files).
  const sessions = operator.exchanges
    .filter((e) => e.path === "/v1/query" && e.response.byteLength > 0)
    .map((e) => (JSON.parse(e.response.toString()) as { session?: { id: string; key: string } }).session)
    .filter((s) => s !== undefined);
  expect(sessions.length).toBe(6);
  const alice = JSON.parse(readFileSync(join(cluster.recorder("alice").dataDir, IDENTITY_KEY_FILE), "utf8"));
  const bobFile = JSON.parse(readFileSync(join(bob.dataDir, IDENTITY_KEY_FILE), "utf8"));
  const bobKey = bobFile.publicKey as string;
  const ownPrivateKey = await loadIdentityPrivateKey(alice.privateKey);
  const mixed = await Promise.all(
    sessions.map(async (s) => ({
      id: s.id,
      key: await mixSessionKey({
        sessionKey: s.key,
        sessionId: s.id,
        ownPrivateKey,
        callerPublicKey: alice.publicKey,
        calleePublicKey: bobKey,
        role: "caller",
      }),
    })),
  );

  // The operator's view: the decrypted capture, the data directory, the log.
  const haystack = Buffer.concat([
    operator.all(),
    ...filesUnder(cluster.nodeDataDir).map((f) => f.bytes),
    Buffer.from(nodeLog.join("\n")),
  ]);
  expect(windows.filter((w) => haystack.includes(w))).toEqual([]);
  const keyForms = mixed.flatMap((m) => [m.key, Buffer.from(fromBase64url(m.key)).toString("hex")]);
  expect(keyForms.filter((k) => haystack.includes(k))).toEqual([]);
  // With only what the node issued, no relayed byte opens.
  expect((await openAll(sessions)).byteLength).toBe(0);

  // The eavesdropper's wire (TLS to the node, the direct channel) carries no password, key, secret or token.
  const grants = operator.exchanges
    .filter((e) => (e.path === "/v1/query" || e.path === "/v1/sessions/pending") && e.response.byteLength > 0)
    .flatMap((e) => {
      const body = JSON.parse(e.response.toString()) as { session?: object } | object[];
      return (Array.isArray(body) ? body : [body.session]) as Array<{ password: string; key: string }>;
    })
    .filter((g) => g !== undefined);
  expect(grants.length).toBeGreaterThanOrEqual(sessions.length * 2 - 1); // caller's copy, and the callee's
  const deviceSecrets = ["alice", "bob"].map(
    (n) =>
      JSON.parse(readFileSync(join(cluster.recorder(n).dataDir, "credential.json"), "utf8")).secret as string,
  );
  const wire = Buffer.concat([...nodeWire.up, ...nodeWire.down, ...directWire.up, ...directWire.down]);
  expect(directWire.up.length).toBeGreaterThan(0);
  const onWire = [
    ...grants.flatMap((g) => [g.password, g.key]),
    ...keyForms,
    ...deviceSecrets,
    cluster.adminToken,
  ].filter((x) => wire.includes(x));
  expect(onWire).toEqual([]);

  // The sealed (default) send put its direct part on that channel, and not one window of the recording is
  // readable there; the seed send of the same recording shows the P/B windows on the same tap.
  const anywhere = windowsInside(video, [{ offset: 0, length: video.length }], 12, 24, Buffer.alloc(0));
  expect(sealedDirect.byteLength).toBeGreaterThan(video.length / 2);
  expect(anywhere.filter((w) => sealedDirect.includes(w))).toEqual([]);
  expect(anywhere.some((w) => Buffer.concat(directWire.up).includes(w))).toBe(true);

  // Handed alice's key file (the sender's: what a later thief of it makes), nothing relayed opens: the live
  // sends' relay streams are under their direct connections' forward-secret keys (crypto/ephemeral-agreement.ts),
  // the fallback's and the stored recording's are sealed to bob's identity key with HPKE.
  const secretWindows = windows.slice(iPictures.length, iPictures.length + 4);
  const storedWindows = windows.slice(-4);
  const senderOnly = await openAll(mixed);
  expect(windows.filter((w) => senderOnly.includes(w))).toEqual([]);

  // Handed bob's key file too, the same search opens the fallback's I-pictures and the stored recording: the
  // test can see what it looks for. The live secret send stays closed: its keys died with its connection.
  const callee = { privateKey: await loadIdentityPrivateKey(bobFile.privateKey), publicKey: bobKey };
  const opened = await openAll(mixed, callee);
  expect([...iPictures, ...storedWindows].filter((w) => !opened.includes(w))).toEqual([]);
  expect(secretWindows.filter((w) => opened.includes(w))).toEqual([]);
}, 180_000);
