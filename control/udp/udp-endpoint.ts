/** @module The control node's UDP port: STUN keepalives in, triggers out, ACKs in; one socket for all three. */

import { DerivedKeys } from "../../crypto/derived-keys.ts";
import { deriveKey, type HmacKey, prepareHmacKey } from "../../crypto/hmac.ts";
import { KEEPALIVE_FRESH_INTERVALS } from "../../protocol/keepalive-request.ts";
import { isStunMessage } from "../../protocol/stun-message.ts";
import {
  encodeTrigger,
  isTriggerDatagram,
  peekTriggerDatagram,
  type TriggerKind,
  TYPE_ACK,
  verifyTriggerAck,
} from "../../protocol/trigger-datagram.ts";
import { udpSocketError } from "../../runtime/udp-socket-error.ts";
import { type DatagramSource, KeepaliveHandler } from "./keepalive-handler.ts";
import { type SessionParties, SessionRendezvous } from "./session-rendezvous.ts";
import { DEFAULT_UDP_RATE_LIMIT, type RateLimit, SourceRateLimiter } from "./source-rate-limiter.ts";

/** Returns the device SECRET (subkeys are derived here with crypto/hmac.ts deriveKey), or null if unknown. */
export type DeviceKeyLookup = (deviceId: string) => Uint8Array | null;
/** Told of every authenticated keepalive: the public mapping the node saw and the interval the device announced. */
export type KeepaliveSink = (deviceId: string, address: string, port: number, intervalSec: number) => void;

/** A device's latest keepalive mapping, as used for triggers. */
export interface DeviceMapping {
  readonly address: string;
  readonly port: number;
  readonly intervalSec: number;
  readonly lastSeen: number;
}

/** Default time a trigger is retried before the device counts as not connected. */
export const DEFAULT_TRIGGER_DEADLINE_MS = 5000;
/** First retry delay; doubles up to TRIGGER_RETRY_MAX_MS (a lost datagram costs little, a late one adds latency). */
export const TRIGGER_RETRY_FIRST_MS = 150;
export const TRIGGER_RETRY_MAX_MS = 1000;
/** Trigger keys kept (one HKDF each saved per trigger); past this the cache starts over. */
const MAX_TRIGGER_KEYS = 200_000;
/** At most this many log lines per second; the rest are counted, so a flood cannot turn into a logging storm. */
const LOG_LINES_PER_SEC = 20;
/**
 * Answers held for one sendMany (sendmmsg(2)) at most: a burst's answers leave in one system call instead of one
 * each, and the first of a burst waits for at most this many others to be handled (tens of µs each).
 */
export const REPLY_BATCH = 64;

interface PendingTrigger {
  readonly deviceId: string;
  readonly key: HmacKey;
  readonly resolve: (v: { answer?: string } | null) => void;
}

interface UdpTransport {
  send(bytes: Uint8Array, port: number, address: string): void;
  /** Sends [bytes, port, address, ...] triples in one system call; returns how many left, in order. */
  sendMany(packets: ReadonlyArray<Uint8Array | number | string>): number;
  close(): void;
  readonly port: number;
}

export interface UdpEndpointOptions {
  host: string;
  port: number;
  lookupSecret: DeviceKeyLookup;
  /**
   * Loads a secret lookupSecret does not have yet (a store read); the keepalive that asked is then handled
   * again. Absent, a device lookupSecret does not know is unknown.
   */
  loadSecret?: (deviceId: string) => Promise<Uint8Array | null>;
  onKeepalive: KeepaliveSink;
  log?: (msg: string) => void;
  /** Per-source-IP limit, or false to disable (benchmarks from one address). Default DEFAULT_UDP_RATE_LIMIT. */
  rateLimit?: RateLimit | false;
  /** Clock, for tests of the timestamp window. Default Date.now. */
  now?: () => number;
  /** Called on each resend of a trigger awaiting its ACK (the node counts retries for /metrics). */
  onTriggerResend?: () => void;
  /**
   * The parties of an active session (a store read); enables session bindings for hole punching
   * (session-rendezvous.ts). The binding that asked is handled again once it answers.
   */
  sessionParties?: (sessionId: string) => Promise<SessionParties | null> | SessionParties | null;
}

export class UdpEndpoint {
  readonly address: { host: string; port: number };
  readonly #transport: UdpTransport;
  readonly #opts: UdpEndpointOptions;
  readonly #handler: KeepaliveHandler;
  /** Sessions read for the binding being handled again; dropped right after, so a later end is never missed. */
  readonly #loadedParties = new Map<string, SessionParties | null>();
  readonly #limiter: SourceRateLimiter | null;
  readonly #now: () => number;
  /** Updated in place while a device's mapping stays the same (only lastSeen moves), replaced when it changes. */
  readonly #mappings = new Map<string, { -readonly [K in keyof DeviceMapping]: DeviceMapping[K] }>();
  readonly #pending = new Map<string, PendingTrigger>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /**
   * Trigger keys beside the secret each came from, used only while lookupSecret still returns that same secret:
   * a deleted device or a new secret invalidates its key by construction (as device-auth.ts does for HTTP keys).
   */
  readonly #triggerKeys = new DerivedKeys<HmacKey>(
    // Held as node:crypto KeyObjects, as the keepalive path's keys are: the trigger's MAC and its ACK's do not
    // import the key again.
    (secret) => prepareHmacKey(deriveKey(secret, "trigger")),
    MAX_TRIGGER_KEYS,
  );
  /** Answers and triggers of this event-loop turn as [bytes, port, address] triples, sent together by #sendReplies. */
  readonly #replies: Array<Uint8Array | number | string> = [];
  #repliesScheduled = false;
  readonly #sendRepliesSoon = () => {
    this.#repliesScheduled = false;
    this.#sendReplies();
  };
  #logWindow = 0;
  #logCount = 0;
  #suppressed = 0;
  #closed = false;
  /** Counters for tests, status pages and benches. */
  readonly stats = {
    datagrams: 0,
    keepalives: 0,
    plainBindings: 0,
    sessionBindings: 0,
    dropped: 0,
    rateLimited: 0,
    acks: 0,
  };

  private constructor(opts: UdpEndpointOptions, transport: UdpTransport) {
    this.#opts = opts;
    this.#transport = transport;
    this.#handler = new KeepaliveHandler(opts.lookupSecret);
    if (opts.sessionParties) {
      const rendezvous = new SessionRendezvous((id) => this.#loadedParties.get(id));
      this.#handler.sessionBinder = (deviceId, sessionId, seen) => rendezvous.bind(deviceId, sessionId, seen);
    }
    this.#limiter =
      opts.rateLimit === false ? null : new SourceRateLimiter(opts.rateLimit ?? DEFAULT_UDP_RATE_LIMIT);
    this.#now = opts.now ?? Date.now;
    this.address = { host: opts.host, port: transport.port };
  }

  static async start(opts: UdpEndpointOptions): Promise<UdpEndpoint> {
    let endpoint: UdpEndpoint | undefined;
    const socket = await Bun.udpSocket({
      hostname: opts.host,
      port: opts.port,
      // Plain Uint8Arrays, not Buffers: the STUN decoder takes views of each datagram, and a Buffer's subarray
      // goes through the Buffer species constructor at several times the cost.
      binaryType: "uint8array",
      socket: {
        data(_s, data, port, address) {
          endpoint?.onDatagram(data, address, port);
        },
        error(...args: unknown[]) {
          endpoint?.onSocketError(udpSocketError(args));
        },
      },
    });
    endpoint = new UdpEndpoint(opts, {
      send: (bytes, port, address) => {
        socket.send(bytes, port, address);
      },
      sendMany: (packets) => socket.sendMany(packets),
      close: () => socket.close(),
      port: socket.port,
    });
    return endpoint;
  }

  /** One datagram in. Never throws: whatever goes wrong is logged (without secrets) and the datagram dropped. */
  onDatagram(data: Uint8Array, address: string, port: number): void {
    this.stats.datagrams++;
    try {
      const now = this.#now();
      if (this.#limiter && !this.#limiter.allow(address, now)) {
        this.stats.rateLimited++;
        return;
      }
      if (isStunMessage(data)) this.#onStun(data, { address, port }, now);
      else if (isTriggerDatagram(data)) this.#onAck(data, { address, port }, now);
      else {
        this.stats.dropped++;
        this.#log(
          `dropped ${data.byteLength}-byte datagram from ${address}:${port}: neither STUN nor trigger`,
        );
      }
    } catch (e) {
      this.stats.dropped++;
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.#log(`dropped datagram from ${address}:${port}: ${what}`);
    }
  }

  /** Socket-level errors (e.g. ICMP unreachable surfacing as ECONNREFUSED) are logged; the socket stays open. */
  onSocketError(err: Error): void {
    this.#log(`socket error: ${err.message}`);
  }

  #onStun(data: Uint8Array, from: DatagramSource, now: number, loaded = false): void {
    const { address, port } = from;
    const out = this.#handler.handle(data, from, now);
    const load = this.#opts.loadSecret;
    if (out.unknownDevice !== undefined && load && !loaded) {
      // The store answers asynchronously; the datagram is handled again once it has, against the same clock.
      load(out.unknownDevice)
        .then(() => {
          if (!this.#closed) this.#onStun(data, from, now, true);
        })
        .catch((err: unknown) => {
          this.stats.dropped++;
          this.#log(`keepalive from ${address}:${port} dropped: ${(err as Error).message}`);
        });
      return;
    }
    const loadParties = this.#opts.sessionParties;
    const sessionId = out.unknownSession;
    if (sessionId !== undefined && loadParties && !this.#loadedParties.has(sessionId)) {
      Promise.resolve(loadParties(sessionId))
        .then((parties) => {
          if (this.#closed) return;
          this.#loadedParties.set(sessionId, parties);
          try {
            this.#onStun(data, from, now, true);
          } finally {
            this.#loadedParties.delete(sessionId);
          }
        })
        .catch((err: unknown) => {
          this.stats.dropped++;
          this.#log(`session binding from ${address}:${port} dropped: ${(err as Error).message}`);
        });
      return;
    }
    const r = out.registration;
    // Record before replying: a send can throw (ECONNREFUSED from an earlier ICMP error) and must not undo
    // an authenticated keepalive.
    if (r) {
      this.stats.keepalives++;
      const prev = this.#mappings.get(r.deviceId);
      if (prev && prev.address === r.address && prev.port === r.port && prev.intervalSec === r.intervalSec) {
        prev.lastSeen = now; // the usual keepalive: nothing allocated, no Map write
      } else {
        if (prev && (prev.address !== r.address || prev.port !== r.port)) {
          this.#log(
            `mapping of ${r.deviceId} changed ${prev.address}:${prev.port} -> ${r.address}:${r.port}`,
          );
        }
        this.#mappings.set(r.deviceId, {
          address: r.address,
          port: r.port,
          intervalSec: r.intervalSec,
          lastSeen: now,
        });
      }
      this.#opts.onKeepalive(r.deviceId, r.address, r.port, r.intervalSec);
    } else if (out.note === "plain binding") this.stats.plainBindings++;
    else if (out.sessionBinding) this.stats.sessionBindings++;
    else this.#log(`keepalive from ${address}:${port} not registered: ${out.note}`);
    if (out.reply) this.#queueReply(out.reply, port, address);
  }

  /**
   * Holds an answer (or a trigger) until the datagrams Bun read in this turn are all handled (setImmediate runs
   * after them), or REPLY_BATCH are waiting, then sends them in one sendMany: one system call per burst, not each.
   */
  #queueReply(bytes: Uint8Array, port: number, address: string): void {
    this.#replies.push(bytes, port, address);
    if (this.#replies.length >= 3 * REPLY_BATCH) this.#sendReplies();
    else if (!this.#repliesScheduled) {
      this.#repliesScheduled = true;
      setImmediate(this.#sendRepliesSoon);
    }
  }

  #sendReplies(): void {
    const replies = this.#replies;
    const count = replies.length / 3;
    let done = 0;
    while (done < count && !this.#closed) {
      try {
        done += this.#transport.sendMany(done === 0 ? replies : replies.slice(3 * done));
      } catch (e) {
        this.#log(`datagrams not sent: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (done >= count) break;
      // sendmmsg(2) stops at the first answer that fails, typically on the ECONNREFUSED that an earlier answer's
      // ICMP port unreachable left on the socket: that one is tried once more by itself, the rest go on.
      const port = replies[3 * done + 1] as number;
      const address = replies[3 * done + 2] as string;
      try {
        this.#transport.send(replies[3 * done] as Uint8Array, port, address);
      } catch (e) {
        this.#log(`datagram to ${address}:${port} not sent: ${e instanceof Error ? e.message : String(e)}`);
      }
      done++;
    }
    replies.length = 0;
  }

  #onAck(data: Uint8Array, { address, port }: DatagramSource, now: number): void {
    const head = peekTriggerDatagram(data);
    if (!head || head.type !== TYPE_ACK)
      throw new SyntaxError("Cannot use trigger datagram: not a well-formed ACK");
    // Unknown ids (late, replayed or invented ACKs) are dropped before any crypto and allocate nothing.
    const pending = this.#pending.get(head.id);
    if (!pending) {
      this.#log(`ignored ACK from ${address}:${port}: no pending trigger with that id`);
      return;
    }
    const ack = verifyTriggerAck(data, pending.key, { deviceId: pending.deviceId, now });
    this.#pending.delete(head.id);
    this.stats.acks++;
    pending.resolve(ack.answer === undefined ? {} : { answer: ack.answer });
  }

  /** The latest mapping of a device, or undefined if none since this endpoint started. */
  mapping(deviceId: string): DeviceMapping | undefined {
    return this.#mappings.get(deviceId);
  }

  /** True while the device's last keepalive is fresher than KEEPALIVE_FRESH_INTERVALS times its interval. */
  isConnected(deviceId: string): boolean {
    const m = this.#mappings.get(deviceId);
    return m !== undefined && this.#now() - m.lastSeen < KEEPALIVE_FRESH_INTERVALS * m.intervalSec * 1000;
  }

  /** Sends a trigger to the device's last keepalive mapping; retries until ACK or deadline. Resolves null on timeout/no mapping. */
  trigger(
    deviceId: string,
    kind: TriggerKind,
    ref: Record<string, unknown>,
    opts?: { deadlineMs?: number },
  ): Promise<{ answer?: string } | null> {
    if (this.#closed || !this.isConnected(deviceId)) return Promise.resolve(null);
    const mapping = this.#mappings.get(deviceId)!;
    const secret = this.#opts.lookupSecret(deviceId);
    if (!secret) return Promise.resolve(null);
    const key = this.#triggerKeys.of(deviceId, secret);
    const { bytes, id } = encodeTrigger({ deviceId, kind, ref, timestamp: this.#now() }, key);
    const deadline = Date.now() + (opts?.deadlineMs ?? DEFAULT_TRIGGER_DEADLINE_MS);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (v: { answer?: string } | null) => {
        if (timer) {
          clearTimeout(timer);
          this.#timers.delete(timer);
        }
        this.#pending.delete(id);
        resolve(v);
      };
      this.#pending.set(id, { deviceId, key, resolve: finish });
      // Retries resend the identical datagram (same id and timestamp): the device ACKs a duplicate again
      // without acting twice, and the MAC'd timestamp bounds how long a captured copy stays replayable.
      let attempts = 0;
      const send = (delay: number) => {
        if (!this.#pending.has(id)) return;
        const left = deadline - Date.now();
        if (left <= 0) return finish(null);
        if (attempts++ > 0) this.#opts.onTriggerResend?.();
        // With the answers of this turn: the status triggers of a turn's QUERYs leave in one system call.
        this.#queueReply(bytes, mapping.port, mapping.address);
        if (timer) this.#timers.delete(timer);
        timer = setTimeout(() => send(Math.min(delay * 2, TRIGGER_RETRY_MAX_MS)), Math.min(delay, left));
        this.#timers.add(timer);
      };
      send(TRIGGER_RETRY_FIRST_MS);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sendReplies();
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const p of [...this.#pending.values()]) p.resolve(null);
    this.#pending.clear();
    this.#transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #log(msg: string): void {
    const log = this.#opts.log;
    if (!log) return;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#logWindow) {
      if (this.#suppressed > 0) log(`udp: ${this.#suppressed} log lines suppressed`);
      this.#logWindow = second;
      this.#logCount = 0;
      this.#suppressed = 0;
    }
    if (this.#logCount++ < LOG_LINES_PER_SEC) log(`udp: ${msg}`);
    else this.#suppressed++;
  }
}
