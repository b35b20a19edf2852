/** @module Relay upload against the real control node process: streamed PUT, resume at the node's offset after kill -9, refusals. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { toBase64url } from "../../crypto/random-token.ts";
import { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { loadCredential } from "../config/credential-store.ts";
import { openInput } from "../files/recording-file.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import { relayStreamSize } from "../transfer/relay-stream-encoder.ts";
import { LiveRelay } from "./live-relay.ts";
import { completeUpload, encodeFromFile, manifestFor, type RelayStreamSpec } from "./relay-upload.ts";
import { RelayUploadError } from "./relay-upload-error.ts";
import { planSend } from "./send-plan.ts";
import { UploadAttempt } from "./upload-attempt.ts";

const MAIN = join(import.meta.dir, "../../bin/pvrlink.ts");
let cluster: Cluster;
let alice: ControlClient;
let bob: ControlClient;
let bobId = "";

beforeAll(async () => {
  cluster = await Cluster.start({ command: [process.execPath, MAIN] });
  const a = await cluster.addRecorder("alice");
  const b = await cluster.addRecorder("bob");
  await cluster.ok(["permit", "add", "alice", "--data", b.dataDir]);
  // bob stays busy: store-mode sessions, and no pickup racing the test for the stored bytes.
  await cluster.ok(["recorder", "busy", "on", "--data", b.dataDir]);
  const client = async (dir: string) => {
    const cred = await loadCredential(join(dir, "credential.json"));
    return new ControlClient({
      baseUrl: cluster.nodeUrl,
      deviceId: cred.id,
      secret: toBase64url(cred.secretBytes()),
      trust: cred.trust,
    });
  };
  alice = await client(a.dataDir);
  bob = await client(b.dataDir);
  bobId = b.id;
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

async function storeTransfer(size: number): Promise<{ id: string; size: number }> {
  await cluster.waitConnected(bobId);
  // After a node restart the trigger path needs bob's next keepalive (the node keeps NAT mappings in memory).
  const deadline = Date.now() + 15_000;
  const ask = () => alice.query("bob", { storeIfBusy: true }).catch((e: unknown) => e as Error);
  let q = await ask();
  while (q instanceof ControlApiError && q.code === "callee_not_connected" && Date.now() < deadline) {
    await Bun.sleep(100);
    q = await ask();
  }
  if (q instanceof Error) throw q;
  expect(q.status).toBe(202);
  const { transfer } = await alice.createTransfer({ session: q.session.id, size, kind: "store" });
  return { id: transfer.id, size };
}

/** What the recipient downloads from the node, hashed. */
async function storedSha(id: string): Promise<string> {
  const res = await bob.downloadData(id);
  return createHash("sha256")
    .update(new Uint8Array(await res.arrayBuffer()))
    .digest("hex");
}

/** The payload as the source a resume re-reads: 256 KiB pieces, from the start every time. */
function sourceOf(bytes: Uint8Array) {
  return async function* () {
    for (let at = 0; at < bytes.length; at += 256 * 1024) yield bytes.subarray(at, at + 256 * 1024);
  };
}

describe("relay upload", () => {
  test("completeUpload() streams a transfer in one attempt and the node checks its SHA-256", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const t = await storeTransfer(bytes.length);
    const r = await completeUpload(alice, t, { source: sourceOf(bytes) });
    expect(r.attempts).toBe(1);
    const info = await alice.transfer(t.id);
    expect(info.complete).toBe(true);
    expect(info.received).toBe(bytes.length);
    expect(await storedSha(t.id)).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  test("completeUpload() resumes at the node's received offset after the node is killed mid-upload", async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    const t = await storeTransfer(bytes.length);
    const first = new UploadAttempt(alice, t.id, 0);
    // Half the bytes go out in the first attempt, then the node dies under it.
    for (let at = 0; at < bytes.length / 2; at += 256 * 1024)
      await first.push(bytes.subarray(at, at + 256 * 1024));
    await waitFor(
      "the node to hold part of the upload",
      async () => (await alice.transfer(t.id)).received > 0,
    );
    await cluster.restartNode("SIGKILL");
    // The caller's pass keeps pushing; the dead attempt hashes and drops.
    for (let at = bytes.length / 2; at < bytes.length; at += 256 * 1024)
      await first.push(bytes.subarray(at, at + 256 * 1024));
    const logs: string[] = [];
    const r = await completeUpload(alice, t, {
      first,
      source: sourceOf(bytes),
      log: (l) => logs.push(l),
    });
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    expect(logs.join("\n")).toMatch(/resuming at byte \d+/);
    const info = await alice.transfer(t.id);
    expect(info.complete).toBe(true);
    expect(await storedSha(t.id)).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  test("completeUpload() refuses a source that encodes a different length than declared", async () => {
    const t = await storeTransfer(1000);
    const err = await completeUpload(alice, t, { source: sourceOf(randomBytes(999)) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RelayUploadError);
    expect((err as RelayUploadError).code).toBe("ERR_RELAY_UPLOAD");
  });

  test("completeUpload() reports the node's refusal code for an unknown transfer, without retrying forever", async () => {
    const err = await completeUpload(
      alice,
      { id: "tr_nonexistent", size: 10 },
      { first: new UploadAttempt(alice, "tr_nonexistent", 0), source: sourceOf(randomBytes(10)) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayUploadError);
    expect((err as RelayUploadError).nodeCode).toBe("transfer_not_found");
  });
});

describe("UploadAttempt", () => {
  const cases = [
    { name: "with owned frees every pushed chunk once fetch has taken it", owned: true },
    { name: "without owned leaves the pushed chunks alone", owned: false },
  ];
  for (const c of cases) {
    test(`UploadAttempt ${c.name}, and the node holds every byte`, async () => {
      const bytes = randomBytes(4 * 1024 * 1024);
      const t = await storeTransfer(bytes.length);
      const attempt = new UploadAttempt(alice, t.id, 0, { owned: c.owned });
      // Each piece a buffer of its own, as an encoder's records are: only such a chunk can be freed.
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += 256 * 1024) {
        const piece = new Uint8Array(bytes.subarray(at, at + 256 * 1024));
        pieces.push(piece);
        await attempt.push(piece);
      }
      const r = await attempt.finish();
      expect(r).toEqual({ received: bytes.length });
      const sha = createHash("sha256").update(bytes).digest("hex");
      expect(attempt.digest()).toBe(sha);
      await alice.completeTransfer(t.id, { size: bytes.length, sha256: sha });
      expect(await storedSha(t.id)).toBe(sha);
      const freed = pieces.filter((p) => p.byteLength === 0).length;
      expect(freed).toBe(c.owned ? pieces.length : 0);
    });
  }
});

describe("LiveRelay", () => {
  const MIB = 1024 * 1024;
  // The pass feeds 1 MiB pieces; killAt: the piece before which the node is killed (SIGKILL) and restarted.
  const cases: Array<[string, number | undefined]> = [
    ["in one attempt", undefined],
    ["after the node is killed mid-pass", 2],
  ];
  for (const [what, killAt] of cases) {
    test(`LiveRelay.complete() leaves the node exactly the stream encodeFromFile() encodes, ${what}`, async () => {
      const bytes = randomBytes(5 * MIB);
      const path = join(cluster.root, `live-${killAt ?? "none"}.bin`);
      await Bun.write(path, bytes);
      const plan = await (async () => {
        await using input = await openInput(path);
        return await planSend(input, path, { type: "data" });
      })();
      const spec: RelayStreamSpec = { part: "whole", sender: "alice" };
      const t = await storeTransfer(relayStreamSize(manifestFor(plan, spec)));
      const seal = { key: await relayKey(randomBytes(32)), sessionId: "ses_live_relay_test" };
      const logs: string[] = [];
      const live = new LiveRelay(
        {
          client: alice,
          plan,
          seal,
          signal: new AbortController().signal,
          deadline: () => Date.now() + 60_000,
          log: (l) => logs.push(l),
          progress: () => {},
        },
        t,
        spec,
      );
      await live.start();
      for (let at = 0, i = 0; at < bytes.length; at += MIB, i++) {
        if (i === killAt) await cluster.restartNode("SIGKILL");
        await live.data(bytes.subarray(at, at + MIB));
      }
      await live.end();
      const r = await live.complete();
      if (killAt === undefined) expect(r.attempts).toBe(1);
      else {
        expect(r.attempts).toBeGreaterThanOrEqual(2);
        expect(logs.join("\n")).toMatch(/resuming at byte \d+/);
      }
      const expected = createHash("sha256");
      for await (const rec of encodeFromFile(seal, plan, spec)) expected.update(rec);
      expect(await storedSha(t.id)).toBe(expected.digest("hex"));
    });
  }
});
