/** @module End to end, compiled binary: an operator with the node's whole data directory and its log cannot open a stored secret recording; with the two recorders' key files it can (so the test can tell). */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
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
import { RELAY_STREAM_WHOLE, relayKey } from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamDecoder } from "../../firmware/transfer/relay-stream-decoder.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { startAliceAndBob } from "./e2e-kit.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const nodeLog: string[] = [];
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob({ echo: (label, line) => label === "node" && nodeLog.push(line) });
}, 60_000);
afterAll(() => cluster?.[Symbol.asyncDispose]());

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Opens a sealed relay stream; the payload, or the error's code. */
async function open(bytes: Uint8Array, sessionKey: string, sessionId: string): Promise<Buffer | string> {
  try {
    const dec = new RelayStreamDecoder(
      await relayKey(fromBase64url(sessionKey)),
      sessionId,
      RELAY_STREAM_WHOLE,
    );
    const out: Uint8Array[] = [];
    for (const r of await dec.push(bytes)) if (r.type === "data") out.push(r.bytes);
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

test("a stored secret recording: the node's files, log and session key open nothing; the recorders' keys open it", async () => {
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
  const spooled = files.filter((f) => f.includes(`${join("node", "spool")}/`));
  expect(spooled).toHaveLength(1);
  const sealed = new Uint8Array(readFileSync(spooled[0]!));

  // 1. No plaintext anywhere: windows of the recording's bytes, in every file and the log.
  const haystacks = [...files.map((f) => readFileSync(f)), Buffer.from(nodeLog.join("\n"))];
  const windows = [0, 4096, plain.length >> 1, plain.length - 64].map((o) => plain.subarray(o, o + 64));
  for (const w of windows) expect(haystacks.some((h) => h.includes(w))).toBe(false);

  // 2. The node's own session key does not open the stored stream.
  expect(await open(sealed, grant!.key, s.sessionId!)).toBe("ERR_DECRYPT");

  // 3. With the recorders' key files too, it opens, byte-identical: the test would have found it.
  const alice = identityOf("alice");
  const mixed = await mixSessionKey({
    sessionKey: grant!.key,
    sessionId: s.sessionId!,
    ownPrivateKey: await loadIdentityPrivateKey(alice.privateKey),
    callerPublicKey: alice.publicKey,
    calleePublicKey: identityOf("bob").publicKey,
    role: "caller",
  });
  const opened = await open(sealed, mixed, s.sessionId!);
  expect(Buffer.isBuffer(opened) && opened.equals(plain)).toBe(true);

  // And bob, the one it was sealed for, files it once its load allows.
  const mark = bob.proc.lines.length;
  await cluster.ok(["recorder", "busy", "off", "--data", bob.dataDir]);
  await bob.proc.waitForLine(/recorder filed /, { timeoutMs: 30_000, since: mark });
}, 90_000);
