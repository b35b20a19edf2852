/** @module End to end, compiled binary: an operator with the node's whole data directory and its log cannot open a stored secret recording, nor can a later thief of the sender's identity key (HPKE, issue 13); with the callee's key file it opens (so the test can tell). */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openStoreKey, STORE_ENC_BYTES } from "../../crypto/hpke-store-key.ts";
import { fromBase64url, toBase64url } from "../../crypto/random-token.ts";
import { mixSessionKey } from "../../crypto/x25519-agreement.ts";
import { loadIdentityPrivateKey } from "../../crypto/x25519-identity.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { loadCredential } from "../../firmware/config/credential-store.ts";
import { openInput } from "../../firmware/files/recording-file.ts";
import { IDENTITY_KEY_FILE, loadOrCreateIdentity } from "../../firmware/identity/identity-key-file.ts";
import { transferKeyFor } from "../../firmware/identity/transfer-key.ts";
import { planSend } from "../../firmware/send/send-plan.ts";
import { type SendResult, sendRecording } from "../../firmware/send/send-recording.ts";
import {
  parseStorePrefix,
  RELAY_STREAM_WHOLE,
  relayKey,
  STORE_PREFIX_BYTES,
} from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamDecoder } from "../../firmware/transfer/relay-stream-decoder.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { startAliceAndBob } from "../support/e2e-stage.ts";
import { filesUnder } from "../support/left-behind.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const nodeLog: string[] = [];
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob({ echo: (label, line) => label === "node" && nodeLog.push(line) });
}, 60_000);
afterAll(() => cluster?.[Symbol.asyncDispose]());

/**
 * Opens a stored stream's records under a key (base64url): as a store stream (its prefix's enc bound into every
 * record's context) or, with `asLive`, under the live context a reader before HPKE used. The payload, or the
 * error's code.
 */
async function open(
  bytes: Uint8Array,
  key: string,
  sessionId: string,
  o: { asLive?: boolean } = {},
): Promise<Buffer | string> {
  try {
    const prefix = parseStorePrefix(bytes);
    const records = typeof prefix === "string" ? bytes : bytes.subarray(STORE_PREFIX_BYTES);
    const dec = new RelayStreamDecoder(await relayKey(fromBase64url(key)), sessionId, RELAY_STREAM_WHOLE, {
      storeEnc: o.asLive || typeof prefix === "string" ? undefined : prefix.enc,
    });
    const out: Uint8Array[] = [];
    for (const r of await dec.push(records)) if (r.type === "data") out.push(r.bytes);
    dec.finish();
    return Buffer.concat(out);
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

async function sendAsAlice(): Promise<{ result: SendResult; issuedKey: string }> {
  const dataDir = cluster.recorder("alice").dataDir;
  const cred = await loadCredential(join(dataDir, "credential.json"));
  const client = new ControlClient({
    baseUrl: cred.node,
    deviceId: cred.id,
    secret: toBase64url(cred.secretBytes()),
    trust: cred.trust,
  });
  const me = await loadOrCreateIdentity(dataDir);
  await using input = await openInput(SAMPLE);
  const plan = await planSend(input, SAMPLE, { secret: true });
  let issuedKey = "";
  const result = await sendRecording({
    client,
    deviceId: cred.id,
    deviceName: cred.name,
    plan,
    to: "bob",
    storeIfBusy: true,
    transferKey: (session, callee) => {
      issuedKey = session.key;
      return transferKeyFor(me, session, { publicKey: callee.publicKey, role: "callee" });
    },
  });
  return { result, issuedKey };
}

function identityOf(name: string): { publicKey: string; privateKey: string } {
  return JSON.parse(readFileSync(join(cluster.recorder(name).dataDir, IDENTITY_KEY_FILE), "utf8"));
}

test("a stored secret recording: the node's files, log and session key open nothing, nor the sender's key (HPKE); the callee's key opens it", async () => {
  const bob = cluster.recorder("bob");
  await cluster.ok(["recorder", "busy", "on", "--data", bob.dataDir]);
  // alice's send, in process, exactly as `pvrlink send --secret --store-if-busy` makes it, so the test also
  // learns the session key the node issued: a curious operator knows it (bob fetches and the node deletes it).
  const sent = await sendAsAlice();
  const s = sent.result;
  expect(s.mode).toBe("store");
  const grant = { key: sent.issuedKey };
  const plain = readFileSync(SAMPLE);

  // Everything the operator has: the data directory (database, WAL, spool, TLS key), the log, the session key.
  const files = filesUnder(cluster.nodeDataDir);
  const spooled = files.filter((f) => f.path.includes(`${join("node", "spool")}/`));
  expect(spooled).toHaveLength(1);
  const sealed = new Uint8Array(spooled[0]!.bytes);

  // 1. No plaintext anywhere: windows of the recording's bytes, in every file and the log.
  const haystacks = [...files.map((f) => f.bytes), Buffer.from(nodeLog.join("\n"))];
  const windows = [0, 4096, plain.length >> 1, plain.length - 64].map((o) => plain.subarray(o, o + 64));
  for (const w of windows) expect(haystacks.some((h) => h.includes(w))).toBe(false);

  // 2. The node's own session key does not open the stored stream, read either way.
  expect(await open(sealed, grant!.key, s.sessionId!)).toBe("ERR_DECRYPT");
  expect(await open(sealed, grant!.key, s.sessionId!, { asLive: true })).toBe("ERR_DECRYPT");

  // 3. The stream starts with the HPKE prefix (issue 13): version 1, a 32-byte enc to bob's identity key.
  const prefix = parseStorePrefix(sealed);
  if (typeof prefix === "string") throw new Error(`the stored stream has no HPKE prefix (${prefix})`);
  expect(prefix.enc.byteLength).toBe(STORE_ENC_BYTES);

  // 4. The static-static transfer key (the pre-HPKE key: all that the node's session key and a later theft of
  // alice's identity key can make) opens nothing, read either way.
  const alice = identityOf("alice");
  const bobKeys = identityOf("bob");
  const transferKey = await mixSessionKey({
    sessionKey: grant!.key,
    sessionId: s.sessionId!,
    ownPrivateKey: await loadIdentityPrivateKey(alice.privateKey),
    callerPublicKey: alice.publicKey,
    calleePublicKey: bobKeys.publicKey,
    role: "caller",
  });
  expect(await open(sealed, transferKey, s.sessionId!)).toBe("ERR_DECRYPT");
  expect(await open(sealed, transferKey, s.sessionId!, { asLive: true })).toBe("ERR_DECRYPT");

  // 5. With bob's key file (the callee's identity private key) and the session key, it opens, byte-identical:
  // the test would have found it. Bob's key makes both halves: the transfer key and the HPKE export.
  const bobPrivate = await loadIdentityPrivateKey(bobKeys.privateKey);
  const bobTransferKey = await mixSessionKey({
    sessionKey: grant!.key,
    sessionId: s.sessionId!,
    ownPrivateKey: bobPrivate,
    callerPublicKey: alice.publicKey,
    calleePublicKey: bobKeys.publicKey,
    role: "callee",
  });
  expect(bobTransferKey).toBe(transferKey);
  const storeKey = await openStoreKey({
    enc: prefix.enc,
    calleePrivateKey: bobPrivate,
    calleePublicKey: bobKeys.publicKey,
    transferKey: bobTransferKey,
    sessionId: s.sessionId!,
  });
  const opened = await open(sealed, storeKey, s.sessionId!);
  expect(Buffer.isBuffer(opened) && opened.equals(plain)).toBe(true);

  // And bob, the one it was sealed for, files it once its load allows.
  const mark = bob.proc.lines.length;
  await cluster.ok(["recorder", "busy", "off", "--data", bob.dataDir]);
  await bob.proc.waitForLine(/recorder filed /, { timeoutMs: 30_000, since: mark });
}, 90_000);
