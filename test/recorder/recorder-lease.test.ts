/** @module The callee follows a lease the caller extended; without the extension the channel ends at the lease. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { waitFor } from "../../demo/wait-for.ts";
import type { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import { LeaseKeeper } from "../../firmware/send/lease-keeper.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import type { NodeProcess } from "../support/control-node.ts";
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
let aliceSecret: string;

beforeAll(async () => {
  // A 3-second lease: long enough to connect, short enough to run past it in a test.
  stage = await startCalleeStage({ nodeConfig: { sessionDurationSec: 3, extensionSec: 20 } });
  ({ node, rec, alice } = stage);
  aliceSecret = stage.aliceCred.secret;
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

async function openOffer(name: string, payload: Uint8Array) {
  const q = await alice.query("grandma");
  if (q.status !== 200) throw new Error("expected a live session");
  const s = q.session;
  const conn = await dialRecorder(rec, alice, s);
  const sha256 = createHash("sha256").update(payload).digest("hex");
  await conn.send({
    type: "offer",
    kind: "data",
    size: payload.byteLength,
    name,
    meta: { sha256, recordingType: "data", secret: false },
  });
  await conn.sendData(payload.subarray(0, 1000));
  return { s, conn, sha256 };
}

describe("session lease on the receiving side", () => {
  test("an extension the caller obtained keeps the callee's channel open past the first lease", async () => {
    const payload = new Uint8Array(5000).fill(3);
    const from = rec.log.mark();
    const { s, conn, sha256 } = await openOffer("long.bin", payload);
    const ext = await alice.extend(s.id);
    expect(ext.expiresAt).toBeGreaterThan(s.expiresAt);
    await rec.log.waitForLine(new RegExp(`lease-extended session=${s.id}`), { since: from, timeoutMs: 8000 });
    conn.setExpiry(ext.expiresAt); // the caller's side follows its own extension
    await waitFor("the first lease to pass", () => Date.now() > s.expiresAt + 300);
    await conn.sendData(payload.subarray(1000));
    await conn.send({ type: "end", size: payload.byteLength, sha256 });
    expect(await conn.receive()).toMatchObject({ type: "receipt", ok: true, sha256 });
    await conn.close();
  }, 20_000);

  test("without an extension the callee closes the channel at the lease end with 'expired'", async () => {
    const { conn } = await openOffer("short.bin", new Uint8Array(5000));
    conn.setExpiry(Date.now() + 60_000); // only the callee's timer may end it: this tests the callee
    const err = (await conn.receive().then(
      () => undefined,
      (e: unknown) => e,
    )) as DirectChannelError;
    expect(err.code).toBe("ERR_DIRECT_CLOSED");
    expect(err.reason).toBe("expired");
  }, 20_000);

  test("LeaseKeeper asks again when its extension request finds the node away, and keeps the lease", async () => {
    const q = await alice.query("grandma");
    if (q.status !== 200) throw new Error("expected a live session");
    const s = q.session;
    // The keeper talks to the node through a proxy that is closed around the 70% mark (connection refused),
    // then opened again on the same port: a node restart as the keeper sees it.
    await using proxy = await PausableProxy.start(node.httpAddr);
    const keeperClient = new ControlClient({
      baseUrl: `https://127.0.0.1:${proxy.port}`,
      deviceId: alice.deviceId,
      secret: aliceSecret,
      trust: { kind: "pin", pin: node.pin },
    });
    const refused: string[] = [];
    const extended: number[] = [];
    const keeper = new LeaseKeeper(keeperClient, s, {
      extended: (at) => extended.push(at),
      refused: (m) => refused.push(m),
      ended: () => {},
    });
    try {
      const lease = s.expiresAt - Date.now();
      // Half the lease: the keeper asks for its extension later, so the node vanishes before it asks.
      await waitFor("half the lease to pass", () => Date.now() >= s.expiresAt - lease * 0.5, {
        timeoutMs: lease,
      });
      await proxy.pause();
      await waitFor("the first extension request to fail", () => refused.length > 0, { timeoutMs: lease });
      await proxy.resume();
      await waitFor("a retried extension", () => extended.length > 0, { timeoutMs: lease });
      expect(extended[0]).toBeGreaterThan(s.expiresAt);
      expect((await alice.session(s.id)).extensions).toBe(1);
    } finally {
      keeper.stop();
      await alice.end(s.id, { reason: "done" }).catch(() => {});
    }
  }, 20_000);
});

/** A TCP forwarder to host:port that can stop listening (connections refused) and listen again on its port. */
class PausableProxy implements AsyncDisposable {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(readonly target: string) {}

  static async start(target: string): Promise<PausableProxy> {
    const p = new PausableProxy(target);
    await p.resume();
    return p;
  }

  async resume(): Promise<void> {
    const [host, port] = [
      this.target.slice(0, this.target.lastIndexOf(":")),
      Number(this.target.split(":").pop()),
    ];
    this.#server = createServer((client) => {
      const server = connect({ host, port });
      for (const sock of [client, server]) {
        this.#sockets.add(sock);
        sock.on("error", () => {});
        sock.on("close", () => this.#sockets.delete(sock));
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((r) => this.#server?.listen(this.port, "127.0.0.1", r));
    this.port = (this.#server.address() as { port: number }).port;
  }

  async pause(): Promise<void> {
    for (const sock of this.#sockets) sock.destroy();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
    this.#server = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.pause();
  }
}
