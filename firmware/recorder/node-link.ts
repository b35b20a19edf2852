/** @module The recorder's one UDP socket to the control node: keepalives out, their answers and triggers in. */

import { lookup } from "node:dns/promises";
import type { udp } from "bun";
import { buildKeepalive, readKeepaliveResponse } from "../../protocol/keepalive-request.ts";
import type { TransportAddress } from "../../protocol/stun-address.ts";
import { StunError } from "../../protocol/stun-error.ts";
import { isTriggerDatagram } from "../../protocol/trigger-datagram.ts";
import { udpSocketError } from "../../runtime/udp-socket-error.ts";
import type { AnswerOutcome, KeepaliveCadence } from "./keepalive-cadence.ts";

export interface NodeLinkEvents {
  /** An authenticated keepalive answer and what it changed. */
  answer(mapped: TransportAddress, outcome: AnswerOutcome): void;
  /** A keepalive went unanswered; `lost` is true on the miss that marks the mapping lost. */
  miss(misses: number, lost: boolean): void;
  /** A datagram that starts with the trigger magic (verified by the caller). */
  trigger(bytes: Uint8Array): void;
  log(event: string, fields: Record<string, unknown>): void;
}

export interface NodeLinkOptions {
  deviceId: string;
  /** keepaliveKey(secret). */
  stunKey: Uint8Array;
  node: { host: string; port: number };
  /**
   * Further UDP endpoints of the same deployment (issue 16 item 3). When answers stay missing for the cadence's
   * miss limit (the mapping counts as lost), the link moves to the next endpoint, round the list; a host name
   * that resolves to several addresses moves through those the same way.
   */
  fallbacks?: ReadonlyArray<{ host: string; port: number }>;
  /** Local bind address of the socket; default 0.0.0.0 port 0. */
  bind?: { host: string; port: number };
  cadence: KeepaliveCadence;
  /** PVRLINK-INTERVAL announced to the node (it judges "connected" by 3 of these). */
  announcedIntervalSec: number;
  events: NodeLinkEvents;
}

/**
 * Keepalives and triggers share the socket on purpose: a NAT (RFC 4787 endpoint-dependent filtering) only lets
 * the node's datagrams in to the mapping the keepalive created, so the node can reach the recorder only through
 * this very socket. A Bun UDP socket without an error handler stops delivering after an ICMP port unreachable
 * (node down), so every error is caught and logged and the socket is kept.
 */
export class NodeLink implements AsyncDisposable {
  readonly #o: NodeLinkOptions;
  #socket: udp.Socket<"uint8array"> | undefined;
  #pending: { tx: Uint8Array; timer: ReturnType<typeof setTimeout> } | undefined;
  #next: ReturnType<typeof setTimeout> | undefined;
  /** The delay #next was armed with. */
  #armedMs = 0;
  #closed = false;
  /** How many times the link moved on; picks the endpoint (and, for a name, the address) now in use. */
  #moves = 0;
  /** Unix ms of the last keepalive sent and the last authenticated answer. */
  lastSentAt: number | undefined;
  lastAnswerAt: number | undefined;
  readonly stats = { sent: 0, answered: 0, missed: 0, socketErrors: 0, dropped: 0 };

  private constructor(o: NodeLinkOptions) {
    this.#o = o;
  }

  static async open(o: NodeLinkOptions): Promise<NodeLink> {
    const link = new NodeLink(o);
    link.#socket = await Bun.udpSocket({
      hostname: o.bind?.host ?? "0.0.0.0",
      port: o.bind?.port ?? 0,
      binaryType: "uint8array",
      socket: {
        data(_s, data) {
          link.#onDatagram(data);
        },
        error(...args: unknown[]) {
          link.stats.socketErrors++;
          link.#o.events.log("udp-error", { message: udpSocketError(args).message });
        },
      },
    });
    return link;
  }

  get localPort(): number {
    return this.#socket?.port ?? 0;
  }

  /** Sends the first keepalive now and keeps going at the cadence's interval. */
  start(): void {
    this.#tick();
  }

  /** Sends bytes to the node's UDP port (trigger ACKs). */
  async send(bytes: Uint8Array): Promise<void> {
    const s = this.#socket;
    if (!s || this.#closed) return;
    const node = this.node;
    const address = await this.#resolve(node.host);
    s.send(bytes, node.port, address);
  }

  /** The endpoint keepalives and ACKs go to now. */
  get node(): { host: string; port: number } {
    const all = [this.#o.node, ...(this.#o.fallbacks ?? [])];
    return all[this.#moves % all.length]!;
  }

  /** Sends a keepalive now instead of at the next tick (after an answer is overdue, or on demand). */
  pokeNow(): void {
    if (this.#closed) return;
    if (this.#next) clearTimeout(this.#next);
    this.#tick();
  }

  async #resolve(h: string): Promise<string> {
    if (/^[\d.]+$/.test(h) || h.includes(":")) return h;
    // Resolved per send: a node behind dynamic DNS may move too; a name for several nodes is walked on each move.
    const all = await lookup(h, { family: 4, all: true });
    const pick = all[this.#moves % all.length];
    if (!pick) throw new RangeError(`Cannot reach ${h}: it resolves to no IPv4 address`);
    return pick.address;
  }

  #tick(): void {
    if (this.#closed) return;
    this.#next = undefined;
    void this.#sendKeepalive()
      .catch((err: unknown) =>
        this.#o.events.log("keepalive-send-failed", { message: (err as Error).message }),
      )
      .finally(() => {
        if (this.#closed) return;
        this.#armedMs = this.#o.cadence.intervalMs;
        this.#next = setTimeout(() => this.#tick(), this.#armedMs);
      });
  }

  async #sendKeepalive(): Promise<void> {
    if (this.#pending) {
      // The previous one is still unanswered: count it now rather than letting two overlap.
      this.#expire();
    }
    const { bytes, transactionId } = buildKeepalive({
      deviceId: this.#o.deviceId,
      key: this.#o.stunKey,
      now: Date.now(),
      intervalSec: this.#o.announcedIntervalSec,
    });
    const timer = setTimeout(() => this.#expire(), this.#o.cadence.answerTimeoutMs);
    this.#pending = { tx: transactionId, timer };
    this.lastSentAt = Date.now();
    this.stats.sent++;
    try {
      await this.send(bytes);
    } catch (err) {
      // Send failures (no route, DNS) count as a miss when the timer fires; nothing else to do here.
      this.#o.events.log("keepalive-send-failed", { message: (err as Error).message });
    }
  }

  #expire(): void {
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending = undefined;
    this.stats.missed++;
    const lost = this.#o.cadence.missed();
    this.#o.events.miss(this.#o.cadence.misses, lost);
    // Every missLimit misses in a row (3 by default), not only the first time: the next endpoint may be down too.
    const moving = this.#o.cadence.misses % this.#o.cadence.missLimit === 0;
    if (moving) {
      const from = this.node;
      this.#moves++;
      const to = this.node;
      if (from !== to)
        this.#o.events.log("node-endpoint-moved", {
          from: `${from.host}:${from.port}`,
          to: `${to.host}:${to.port}`,
        });
    }
    // A shortened interval must take effect now, not after the long timer already armed. After a move the new
    // endpoint is tried at once: the old one's silence says nothing about it, and every interval waited is one in
    // which no node can trigger this recorder (issue 16: triggers resume within two keepalive intervals). Inside a
    // tick (#next unset) the keepalive about to leave already goes to the new endpoint.
    // The interval counts from the unanswered keepalive's send, not from its answer timeout: otherwise every miss
    // would add the answer timeout (3 s) to the gap, and a dead node would be noticed ~6 s later.
    if (this.#next && !this.#closed) {
      clearTimeout(this.#next);
      this.#armedMs = this.#o.cadence.intervalMs;
      const due = moving ? 0 : (this.lastSentAt ?? Date.now()) + this.#armedMs - Date.now();
      this.#next = setTimeout(() => this.#tick(), Math.max(0, due));
    }
  }

  #onDatagram(data: Uint8Array): void {
    try {
      if (isTriggerDatagram(data)) {
        this.#o.events.trigger(data);
        return;
      }
      const p = this.#pending;
      if (!p) {
        this.stats.dropped++;
        return;
      }
      let mapped: TransportAddress;
      try {
        mapped = readKeepaliveResponse(data, { key: this.#o.stunKey, transactionId: p.tx });
      } catch (err) {
        this.stats.dropped++;
        const code = err instanceof StunError ? err.code : "ERR_STUN";
        // Only the node's own refusal is worth a line; forged or stray answers are counted and dropped.
        if (code === "ERR_KEEPALIVE_REJECTED")
          this.#o.events.log("keepalive-rejected", { code, message: (err as Error).message });
        return;
      }
      clearTimeout(p.timer);
      this.#pending = undefined;
      this.stats.answered++;
      this.lastAnswerAt = Date.now();
      const outcome = this.#o.cadence.answered(`${mapped.address}:${mapped.port}`);
      // The next tick was armed when this keepalive left, with the old interval. An answer that shortened it
      // (a detected mapping expiry) must take effect now: one more long gap would let the new mapping die too.
      if (this.#next && this.#o.cadence.intervalMs < this.#armedMs) {
        clearTimeout(this.#next);
        this.#armedMs = this.#o.cadence.intervalMs;
        const due = (this.lastSentAt ?? Date.now()) + this.#armedMs - Date.now();
        this.#next = setTimeout(() => this.#tick(), Math.max(0, due));
      }
      this.#o.events.answer(mapped, outcome);
    } catch (err) {
      this.#o.events.log("udp-datagram-failed", { message: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#next) clearTimeout(this.#next);
    if (this.#pending) clearTimeout(this.#pending.timer);
    this.#socket?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
