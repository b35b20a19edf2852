/** @module A recorder's UDP side for integration tests: real authenticated STUN keepalives to the node and real trigger ACKs, with scripted answers. */

import type { udp } from "bun";
import { deriveKey } from "../../crypto/hmac.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { buildKeepalive, keepaliveKey, readKeepaliveResponse } from "../../protocol/keepalive-request.ts";
import type { TransportAddress } from "../../protocol/stun-address.ts";
import {
  encodeTriggerAck,
  isTriggerDatagram,
  type Trigger,
  verifyTrigger,
} from "../../protocol/trigger-datagram.ts";
import { udpSocketError } from "../../runtime/udp-socket-error.ts";

export type Answerer = (t: Trigger) => string | undefined | "no-ack";

export class DeviceAgent implements AsyncDisposable {
  readonly triggers: Trigger[] = [];
  /** Errors the socket reported (an ICMP refusal after the node stopped), kept for a test to look at. */
  readonly socketErrors: Error[] = [];
  /** Per-kind answers: "acceptable" | "busy" for status, "allow" | "deny" for verdict, "no-ack" to stay silent. */
  answer: Answerer = (t) => (t.kind === "status" ? "acceptable" : t.kind === "verdict" ? "deny" : undefined);
  #mapped: TransportAddress | null = null;
  #pendingTx: Uint8Array | null = null;
  /** The node's refusal of the pending keepalive (e.g. 401 for a deleted device), for keepalive() to reject with. */
  #refused: Error | null = null;
  readonly #stunKey: Uint8Array;
  readonly #triggerKey: Uint8Array;

  readonly #socket: udp.Socket<"buffer">;
  readonly #node: { host: string; port: number };
  private constructor(
    readonly deviceId: string,
    secret: string,
    socket: udp.Socket<"buffer">,
    node: { host: string; port: number },
  ) {
    this.#socket = socket;
    this.#node = node;
    const s = fromBase64url(secret);
    this.#stunKey = keepaliveKey(s);
    this.#triggerKey = deriveKey(s, "trigger");
  }

  static async start(
    cred: { id: string; secret: string },
    node: { host: string; port: number },
  ): Promise<DeviceAgent> {
    let agent: DeviceAgent | undefined;
    const socket = await Bun.udpSocket({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(_s, data) {
          agent?.onDatagram(new Uint8Array(data));
        },
        // An ack or keepalive sent to a node that has since stopped comes back as an ICMP port unreachable,
        // which Bun reports here (ECONNREFUSED on recv). Unhandled, it failed whichever test was running then.
        error(...args: unknown[]) {
          agent?.socketErrors.push(udpSocketError(args));
        },
      },
    });
    agent = new DeviceAgent(cred.id, cred.secret, socket, node);
    return agent;
  }

  get port(): number {
    return this.#socket.port;
  }

  get mapped(): TransportAddress | null {
    return this.#mapped;
  }

  onDatagram(data: Uint8Array): void {
    if (isTriggerDatagram(data)) {
      const t = verifyTrigger(data, this.#triggerKey, { deviceId: this.deviceId, now: Date.now() });
      const a = this.answer(t);
      if (!this.triggers.some((x) => x.id === t.id)) this.triggers.push(t);
      if (a === "no-ack") return;
      const ack = encodeTriggerAck(
        a === undefined
          ? { id: t.id, deviceId: this.deviceId, timestamp: Date.now() }
          : { id: t.id, deviceId: this.deviceId, answer: a, timestamp: Date.now() },
        this.#triggerKey,
      );
      this.#socket.send(ack, this.#node.port, this.#node.host);
      return;
    }
    if (this.#pendingTx) {
      try {
        this.#mapped = readKeepaliveResponse(data, { key: this.#stunKey, transactionId: this.#pendingTx });
      } catch (err) {
        this.#refused = err as Error;
      }
      this.#pendingTx = null;
    }
  }

  /** Sends one keepalive and waits for the node's integrity-protected answer. */
  async keepalive(intervalSec = 25): Promise<TransportAddress> {
    this.#mapped = null;
    this.#refused = null;
    const { bytes, transactionId } = buildKeepalive({
      deviceId: this.deviceId,
      key: this.#stunKey,
      now: Date.now(),
      intervalSec,
    });
    this.#pendingTx = transactionId;
    this.#socket.send(bytes, this.#node.port, this.#node.host);
    await waitFor("keepalive response", () => this.#mapped !== null || this.#refused !== null, {
      timeoutMs: 3000,
    });
    if (this.#refused) throw this.#refused;
    return this.#mapped!;
  }

  kinds(): string[] {
    return this.triggers.map((t) => t.kind);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.close();
  }
}
