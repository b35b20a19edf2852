/** @module Test kit for the daemon's receive pipeline: the fixture and its split, and alice's sessions, relay uploads and OFFERs to grandma. */
import { afterAll, beforeAll, beforeEach } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { splitBytes } from "../../codec/split/split-bytes.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { type RelayManifest, type RelayStreamId, relayKey } from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder, relayStreamSize } from "../../firmware/transfer/relay-stream-encoder.ts";
import type { SessionGrant } from "../../protocol/api-types.ts";
import { pvrlink } from "./pvrlink-source.ts";
import { type CalleeStage, dialRecorder, startCalleeStage } from "./recorder-harness.ts";

export const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The recording every receive test sends, the ranges its split protects, and its two parts. */
export const original = new Uint8Array(
  readFileSync(join(import.meta.dir, "../../testdata/containers/ps-mpeg2.mpg")),
);
const ranges = [
  { offset: 0, length: 2048 },
  { offset: 40_000, length: 9000 },
  { offset: 100_000, length: 20_000 },
];
export const parts = splitBytes(original, ranges, "ps");
/** The manifest fields the fixture's relay streams share. */
export const base = {
  originalSize: original.byteLength,
  sha256: sha(original),
  recordingType: "ps",
  secret: false,
  sender: "alice",
};

interface Listed {
  name: string;
  sha256: string;
  secret: boolean;
  sender: string;
  path: string;
}

/** A callee stage with alice's side of a send: her live sessions, relay uploads, direct connections and OFFERs. */
export class ReceiveKit implements AsyncDisposable {
  #started: CalleeStage | undefined;

  /** Starts the stage: node, alice, and grandma's daemon. */
  async start(): Promise<void> {
    this.#started = await startCalleeStage({ nodeConfig: { rateLimitPerSec: 500, rateLimitBurst: 1000 } });
  }

  get #stage(): CalleeStage {
    if (!this.#started) throw new Error("Cannot use the receive kit: its stage has not started");
    return this.#started;
  }
  get node() {
    return this.#stage.node;
  }
  get rec() {
    return this.#stage.rec;
  }
  get alice() {
    return this.#stage.alice;
  }

  async live(): Promise<SessionGrant> {
    const q = await this.alice.query("grandma");
    if (q.status !== 200) throw new Error(`expected a live session, got ${q.status}`);
    return q.session;
  }

  /** Creates a live relay transfer and uploads one stream of `payload` through it, as the sender does. */
  async relayUpload(
    s: SessionGrant,
    stream: RelayStreamId,
    m: RelayManifest,
    payload: Uint8Array,
    key?: CryptoKey,
  ): Promise<string> {
    const t = await this.alice.createTransfer({ session: s.id, size: relayStreamSize(m), kind: "relay" });
    const body = await this.relayBody(s, stream, m, payload, key);
    await this.alice.uploadData(t.transfer.id, 0, body);
    await this.alice.completeTransfer(t.transfer.id, { size: body.byteLength });
    return t.transfer.id;
  }

  /** One relay stream of `payload`, encoded whole as the sender's RelayStreamEncoder makes it. */
  async relayBody(
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
  dial(s: SessionGrant): Promise<DirectConnection> {
    return dialRecorder(this.rec, this.alice, s);
  }

  /** An OFFER for the fixture recording (its size and SHA-256, recordingType "ps") with the given meta. */
  offer(conn: DirectConnection, kind: string, name: string, meta: Record<string, unknown>): Promise<void> {
    return conn.send({
      type: "offer",
      kind,
      size: original.byteLength,
      name,
      meta: { sha256: base.sha256, recordingType: "ps", ...meta },
    });
  }

  /** Waits until grandma's incoming (temp) directory is empty: a failed receive leaves nothing behind. */
  noTempFiles(): Promise<boolean> {
    return waitFor(
      "temp files gone",
      () => readdirSync(join(this.rec.dataDir, "library", ".incoming")).length === 0,
    );
  }

  /** grandma's library entry named `name`, if she filed one. */
  async listed(name: string) {
    const r = await pvrlink(["library", "list", "--json", "--data", this.rec.dataDir]);
    return (JSON.parse(r.stdout) as Listed[]).find((x) => x.name === name);
  }

  /**
   * Empties grandma's library: every test sends the same fixture, and content the library holds is not filed
   * twice (issue 19 item 8), so each starts empty and its recording is filed under its own name.
   */
  async emptyLibrary(): Promise<void> {
    const r = await pvrlink(["library", "list", "--json", "--data", this.rec.dataDir]);
    for (const { id } of JSON.parse(r.stdout) as Array<{ id: string }>)
      await pvrlink(["library", "remove", id, "--data", this.rec.dataDir]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#started?.[Symbol.asyncDispose]();
  }
}

/**
 * The receive tests' kit, on the calling file's hooks: the stage starts before its tests and stops after them, and
 * grandma's library is emptied before each (the node's rate limit is raised: alice sends back to back).
 */
export function receiveKit(): ReceiveKit {
  const kit = new ReceiveKit();
  beforeAll(() => kit.start(), 30_000);
  afterAll(() => kit[Symbol.asyncDispose]());
  beforeEach(() => kit.emptyLibrary());
  return kit;
}
