/** @module The daemon's receive pipeline over real sockets: split (relay + direct at once), secret via relay, fallback through the relay only, forced end. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { DEFAULT_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { splitBytes } from "../../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { fromBase64url, randomBytes } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import {
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayStreamId,
  relayKey,
} from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder, relayStreamSize } from "../../firmware/transfer/relay-stream-encoder.ts";
import type { SessionGrant } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import type { NodeProcess } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";
import {
  type CalleeStage,
  dialRecorder,
  type RecorderProc,
  startCalleeStage,
} from "../support/recorder-harness.ts";

const FIXTURE = join(import.meta.dir, "../../testdata/containers/ps-mpeg2.mpg");
let stage: CalleeStage;
let node: NodeProcess;
let rec: RecorderProc;
let alice: ControlClient;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function live(): Promise<SessionGrant> {
  const q = await alice.query("grandma");
  if (q.status !== 200) throw new Error(`expected a live session, got ${q.status}`);
  return q.session;
}

/** Creates a live relay transfer and uploads one stream of `payload` through it, as the sender does. */
async function relayUpload(
  s: SessionGrant,
  stream: RelayStreamId,
  m: RelayManifest,
  payload: Uint8Array,
  key?: CryptoKey,
): Promise<string> {
  const t = await alice.createTransfer({ session: s.id, size: relayStreamSize(m), kind: "relay" });
  const body = await relayBody(s, stream, m, payload, key);
  await alice.uploadData(t.transfer.id, 0, body);
  await alice.completeTransfer(t.transfer.id, { size: body.byteLength });
  return t.transfer.id;
}

/** One relay stream of `payload`, encoded whole as the sender's RelayStreamEncoder makes it. */
async function relayBody(
  s: SessionGrant,
  stream: RelayStreamId,
  m: RelayManifest,
  payload: Uint8Array,
  key?: CryptoKey,
): Promise<Uint8Array> {
  const enc = new RelayStreamEncoder(key ?? (await relayKey(fromBase64url(s.key))), s.id, stream);
  return new Uint8Array(
    Buffer.concat([await enc.manifest(m), ...(await enc.data(payload)), ...(await enc.end())]),
  );
}

/** alice's direct connection to grandma for session s. */
function dial(s: SessionGrant): Promise<DirectConnection> {
  return dialRecorder(rec, alice, s);
}

/** An OFFER for the fixture recording (its size and SHA-256, recordingType "ps") with the given meta. */
function offer(
  conn: DirectConnection,
  kind: string,
  name: string,
  meta: Record<string, unknown>,
): Promise<void> {
  return conn.send({
    type: "offer",
    kind,
    size: original.byteLength,
    name,
    meta: { sha256: base.sha256, recordingType: "ps", ...meta },
  });
}

/** Waits until grandma's incoming (temp) directory is empty: a failed receive leaves nothing behind. */
function noTempFiles(): Promise<boolean> {
  return waitFor(
    "temp files gone",
    () => readdirSync(join(rec.dataDir, "library", ".incoming")).length === 0,
  );
}

interface Listed {
  name: string;
  sha256: string;
  secret: boolean;
  sender: string;
  path: string;
}

async function listed(name: string) {
  const r = await pvrlink(["library", "list", "--json", "--data", rec.dataDir]);
  return (JSON.parse(r.stdout) as Listed[]).find((x) => x.name === name);
}

// Every test sends the same fixture, and content the library holds is not filed twice (issue 19 item 8):
// each starts with grandma's library empty, so its recording is filed under its own name.
beforeEach(async () => {
  if (rec === undefined) return;
  const r = await pvrlink(["library", "list", "--json", "--data", rec.dataDir]);
  for (const { id } of JSON.parse(r.stdout) as Array<{ id: string }>)
    await pvrlink(["library", "remove", id, "--data", rec.dataDir]);
});

const original = new Uint8Array(readFileSync(FIXTURE));
const ranges = [
  { offset: 0, length: 2048 },
  { offset: 40_000, length: 9000 },
  { offset: 100_000, length: 20_000 },
];
const parts = splitBytes(original, ranges, "ps");
const base = {
  originalSize: original.byteLength,
  sha256: sha(original),
  recordingType: "ps",
  secret: false,
  sender: "alice",
};

beforeAll(async () => {
  // Thirteen sends from alice back to back: the node's default per-device limit (20/s, burst 40) is a
  // hardening test's subject, not this file's, so it must not throttle the caller here.
  stage = await startCalleeStage({ nodeConfig: { rateLimitPerSec: 500, rateLimitBurst: 1000 } });
  ({ node, rec, alice } = stage);
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

describe("receiving through the daemon", () => {
  test("split: the protected part through the relay and the direct part on the channel, merged byte-exact", async () => {
    const s = await live();
    const protectedId = relayUpload(
      s,
      RELAY_STREAM_PROTECTED,
      { ...base, name: "film.mpg", kind: "split-protected", size: parts.protected.byteLength },
      parts.protected,
    );
    const conn = await dial(s);
    const transferId = await protectedId;
    await offer(conn, "split", "film.mpg", {
      secret: false,
      relay: { transferId, stream: 1 },
      directSize: parts.direct.byteLength,
    });
    await conn.sendData(parts.direct);
    await conn.send({ type: "end", size: parts.direct.byteLength, sha256: sha(parts.direct) });
    expect(await conn.receive()).toEqual({
      type: "receipt",
      ok: true,
      bytes: original.byteLength,
      sha256: base.sha256,
    });
    await conn.close();
    const got = (await listed("film.mpg"))!;
    expect(got.sender).toBe("alice");
    expect(sha(readFileSync(got.path))).toBe(base.sha256);
    await rec.log.waitForLine(/filed .*name=film\.mpg .*split=true/);
  }, 20_000);

  // A relay stream an OFFER names on a connection that agreed a forward-secret relay key is read under that key
  // only (crypto/ephemeral-agreement.ts): one sealed under the session's static relay key does not open.
  const secretCases = [
    { key: "the connection's forward-secret relay key", fs: true, ok: true },
    { key: "the session's static relay key", fs: false, ok: false },
  ];
  for (const c of secretCases) {
    test(`secret through the relay under ${c.key}: ${c.ok ? "filed, only OFFER/END/RECEIPT on the channel" : "RECEIPT decrypt_failed, nothing filed"}`, async () => {
      const s = await live();
      const conn = await dial(s);
      expect(conn.relayKey).toBeDefined();
      const name = `diary-${c.fs ? "fs" : "static"}.mpg`;
      const transferId = await relayUpload(
        s,
        RELAY_STREAM_WHOLE,
        { ...base, name, kind: "whole", size: original.byteLength, secret: true },
        original,
        c.fs ? conn.relayKey : undefined,
      );
      await offer(conn, "relay", name, { secret: true, relay: { transferId, stream: 3 } });
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 });
      const receipt = await conn.receive();
      await conn.close();
      if (c.ok) {
        expect(receipt).toMatchObject({ type: "receipt", ok: true, sha256: base.sha256 });
        expect(conn.bytesReceived + conn.bytesSent).toBe(0);
        expect(await listed(name)).toMatchObject({ secret: true, sha256: base.sha256 });
      } else {
        expect(receipt).toMatchObject({ type: "receipt", ok: false, code: "decrypt_failed" });
        expect(await listed(name)).toBeUndefined();
      }
    }, 20_000);
  }

  test("fallback: both parts through the relay with no direct connection, announced by data triggers only", async () => {
    const s = await live();
    const from = rec.log.mark();
    const direct = await relayUpload(
      s,
      RELAY_STREAM_DIRECT,
      { ...base, name: "fallback.mpg", kind: "split-direct", size: parts.direct.byteLength },
      parts.direct,
    );
    await relayUpload(
      s,
      RELAY_STREAM_PROTECTED,
      {
        ...base,
        name: "fallback.mpg",
        kind: "split-protected",
        size: parts.protected.byteLength,
        siblingTransferId: direct,
      },
      parts.protected,
    );
    await rec.log.waitForLine(/filed .*name=fallback\.mpg/, { since: from });
    expect((await listed("fallback.mpg"))?.sha256).toBe(base.sha256);
  }, 20_000);

  test("a split whose relay part is sealed for another session fails: RECEIPT not ok, nothing filed", async () => {
    const s = await live();
    const other = await live();
    const transferId = await relayUpload(
      other,
      RELAY_STREAM_PROTECTED,
      { ...base, name: "spliced.mpg", kind: "split-protected", size: parts.protected.byteLength },
      parts.protected,
    );
    const conn = await dial(s);
    await offer(conn, "split", "spliced.mpg", { secret: false, relay: { transferId, stream: 1 } });
    await conn.sendData(parts.direct).catch(() => {});
    await conn.send({ type: "end" }).catch(() => {});
    const receipt = await conn.receive();
    expect(receipt).toMatchObject({ type: "receipt", ok: false });
    await conn.close();
    expect(await listed("spliced.mpg")).toBeUndefined();
    // The other session's protected part is a valid half split for that session and waits for its direct half;
    // ending that session drops it and its temp file.
    const from = rec.log.mark();
    await node.admin.endSession(other.id, "operator");
    await rec.log.waitForLine(new RegExp(`session-work-ended session=${other.id}`), { since: from });
    await noTempFiles();
  }, 20_000);

  test("a forced end mid-transfer closes the channel with 'ended' and leaves no temp file", async () => {
    const s = await live();
    const conn = await dial(s);
    await conn.send({
      type: "offer",
      kind: "data",
      size: 1_000_000,
      name: "cut.bin",
      meta: { sha256: "0".repeat(64), recordingType: "data", secret: false },
    });
    await conn.sendData(new Uint8Array(100_000));
    const from = rec.log.mark();
    await rec.log.waitForLine(/offer session=\S+ kind=data name=cut\.bin/);
    await node.admin.endSession(s.id, "operator");
    await rec.log.waitForLine(new RegExp(`session-ended session=${s.id} reason=operator`), { since: from });
    const err = await conn.receive().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DirectChannelError);
    expect((err as DirectChannelError).code).toBe("ERR_DIRECT_CLOSED");
    expect(await listed("cut.bin")).toBeUndefined();
    // The cut receive is fsynced and moved to DATA/partials (kept for a resume) as the channel closes, so the
    // temp file goes a moment after the close: waited for, not raced.
    await waitFor("the temp file moved out of .incoming", () =>
      readdirSync(join(rec.dataDir, "library", ".incoming")).length === 0 ? true : undefined,
    );
  }, 20_000);

  // The fourth field: the OFFER's secrecy and protection; a secret OFFER unless it says otherwise.
  type OfferPromise = { secret: boolean; protection?: string };
  const refusals: Array<
    [string, "relay" | "data" | "split", (c: DirectConnection) => Promise<void>, OfferPromise?]
  > = [
    [
      "a clear DATA frame under a relay (secret) OFFER",
      "relay",
      (c) => c.sendData(original, { clear: true }),
    ],
    [
      "a sealed DATA frame under a relay (secret) OFFER",
      "relay",
      (c) => c.sendData(original.subarray(0, 4096)),
    ],
    ["a data OFFER for a secret recording", "data", (c) => c.sendData(original, { clear: true })],
    ["a split OFFER for a secret recording", "split", (c) => c.sendData(parts.direct, { clear: true })],
    [
      "a clear DATA frame under a sealed data OFFER",
      "data",
      (c) => c.sendData(original, { clear: true }),
      { secret: false, protection: "sealed" },
    ],
    [
      "a clear DATA frame under a sealed split OFFER",
      "split",
      (c) => c.sendData(parts.direct, { clear: true }),
      { secret: false, protection: "sealed" },
    ],
  ];
  for (const [what, kind, sendBytes, promise = { secret: true }] of refusals) {
    test(`the callee refuses ${what}: RECEIPT clear_data_refused, nothing filed, no temp file`, async () => {
      const s = await live();
      const name = `leak-${kind}-${Math.random().toString(36).slice(2, 8)}.mpg`;
      // As a sender would: the relay transfer is created before the OFFER names it and uploaded after; the
      // legitimate sealed copy must not be filed after the refusal either.
      const manifest: RelayManifest =
        kind === "split"
          ? {
              ...base,
              name,
              kind: "split-protected",
              size: parts.protected.byteLength,
              secret: promise.secret,
            }
          : { ...base, name, kind: "whole", size: original.byteLength, secret: promise.secret };
      const t = await alice.createTransfer({ session: s.id, size: relayStreamSize(manifest), kind: "relay" });
      const transferId = t.transfer.id;
      const conn = await dial(s);
      await conn.send({
        type: "offer",
        kind,
        size: original.byteLength,
        name,
        meta: {
          sha256: base.sha256,
          recordingType: "ps",
          ...promise,
          relay: { transferId, stream: kind === "split" ? 1 : 3 },
        },
      });
      await sendBytes(conn).catch(() => {});
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 }).catch(() => {});
      expect(await conn.receive()).toMatchObject({ type: "receipt", ok: false, code: "clear_data_refused" });
      await conn.close();
      const body = await relayBody(
        s,
        kind === "split" ? RELAY_STREAM_PROTECTED : RELAY_STREAM_WHOLE,
        manifest,
        kind === "split" ? parts.protected : original,
      );
      await alice.uploadData(transferId, 0, body).catch(() => {});
      await alice.completeTransfer(transferId, { size: body.byteLength }).catch(() => {});
      await rec.log.waitForLine(new RegExp(`receive-failed session=${s.id} code=clear_data_refused`));
      // A download that was not stopped would hold a temp file until it is filed: once none is left, look.
      await noTempFiles();
      expect(await listed(name)).toBeUndefined();
    }, 20_000);
  }

  /** The direct part in pattern form, as a pattern-mode sender makes it (ranges inside the direct body). */
  async function patternDirect(key: Uint8Array): Promise<{ wire: Uint8Array; added: number }> {
    const patternPlan = {
      scheme: DEFAULT_PATTERN_SCHEME,
      ranges: [
        { offset: 100, length: 64 },
        { offset: 5000, length: 64 },
        { offset: 30_000, length: 64 },
      ],
    };
    const salt = randomBytes(16);
    const enc = new PatternDirectEncoder(patternPlan, salt, await makePatternKeystream(key, salt));
    const out = await enc.push(parts.direct.slice());
    enc.finish();
    return { wire: Buffer.concat(out), added: enc.addedBytes };
  }
  // damage(wire, patternHeaderAt, bodyAt)
  const patternCases: Array<
    [string, (w: Uint8Array, header: number, body: number) => void, string | undefined]
  > = [
    ["arrives decrypted and merged byte-exact", () => {}, undefined],
    [
      "with a flipped pattern-header byte fails integrity_failed",
      (w, h) => {
        w[h + 40]! ^= 1;
      },
      "integrity_failed",
    ],
    [
      "with a flipped encrypted byte fails integrity_failed",
      (w, _h, b) => {
        w[b + 110]! ^= 1;
      },
      "integrity_failed",
    ],
    [
      "with its pattern header cut off fails integrity_failed",
      (w, h, b) => w.copyWithin(h, b),
      "integrity_failed",
    ],
  ];
  for (const [what, damage, code] of patternCases) {
    test(`a pattern-mode split ${what}`, async () => {
      const s = await live();
      const name = `pattern-${Math.random().toString(36).slice(2, 8)}.mpg`;
      const transferId = await relayUpload(
        s,
        RELAY_STREAM_PROTECTED,
        { ...base, name, kind: "split-protected", size: parts.protected.byteLength },
        parts.protected,
      );
      const { wire, added } = await patternDirect(fromBase64url(s.key));
      const splitHeader = peekSplitHeaderLength(parts.direct) ?? 0;
      damage(wire, splitHeader, splitHeader + added);
      const conn = await dial(s);
      await offer(conn, "split", name, {
        secret: false,
        relay: { transferId, stream: 1 },
        directSize: wire.byteLength,
        protection: "pattern",
      });
      await conn.sendData(wire, { clear: true }).catch(() => {});
      await conn.send({ type: "end", size: original.byteLength, sha256: base.sha256 }).catch(() => {});
      const receipt = await conn.receive();
      await conn.close();
      if (code === undefined) {
        expect(receipt).toMatchObject({ type: "receipt", ok: true, sha256: base.sha256 });
        expect(sha(readFileSync((await listed(name))!.path))).toBe(base.sha256);
      } else {
        expect(receipt).toMatchObject({ type: "receipt", ok: false, code });
        expect(await listed(name)).toBeUndefined();
        await noTempFiles();
      }
    }, 20_000);
  }
});
