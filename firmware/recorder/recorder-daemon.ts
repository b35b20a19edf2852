/** @module The recorder daemon: keepalive and triggers, registration, direct listener, receiving, inbox pickup, status. */

import { join } from "node:path";
import { deriveKey } from "../../crypto/hmac.ts";
import type { PendingSession } from "../../protocol/api-types.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { keepaliveKey } from "../../protocol/keepalive-request.ts";
import type { DeviceCredential } from "../config/credential-store.ts";
import type { HostPort, RecorderConfig } from "../config/recorder-config.ts";
import { type DirectListener, listenDirect } from "../direct/direct-listener.ts";
import { SessionTicketStore } from "../direct/session-ticket-store.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { transferKeyFor } from "../identity/transfer-key.ts";
import { Library } from "../library/library.ts";
import { LoadMonitor } from "../load/load-monitor.ts";
import { type LoadSource, ProcLoadSource } from "../load/load-source.ts";
import { PeerPins } from "../peers/peer-pins.ts";
import { DeviceAllowList } from "../permit/device-allow-list.ts";
import { BusySwitch } from "./busy-switch.ts";
import { InboxPickup } from "./inbox-pickup.ts";
import { KeepaliveCadence } from "./keepalive-cadence.ts";
import { followLease } from "./lease-follower.ts";
import { NodeLink } from "./node-link.ts";
import { RecorderLoad } from "./recorder-load.ts";
import { type RecorderStatus, writeStatus } from "./recorder-status-file.ts";
import { RecordingReceiver } from "./recording-receiver.ts";
import { Registrar } from "./registrar.ts";
import { SESSION_KEYRING_FILE, SessionKeyring } from "./session-keyring.ts";
import { TriggerDispatcher } from "./trigger-dispatcher.ts";

export interface RecorderDaemonOptions {
  config: RecorderConfig;
  credential: DeviceCredential;
  /** The node as this run reaches it (flag, else credential, else config). */
  nodeUrl: string;
  nodeUdp: HostPort;
  /** Shortest keepalive interval while answers are missing (default 5 s). */
  keepaliveFloorMs?: number;
  inboxEveryMs?: number;
  loadSource?: LoadSource;
  /** One log line per event; never secrets. */
  log: (line: string) => void;
}

function fmt(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const s = typeof v === "string" ? v : JSON.stringify(v);
      return `${k}=${/^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)}`;
    })
    .join(" ");
}

export class RecorderDaemon implements AsyncDisposable {
  readonly listener: DirectListener;
  readonly link: NodeLink;
  readonly load: RecorderLoad;
  readonly pickup: InboxPickup;
  readonly receiver: RecordingReceiver;
  readonly #o: RecorderDaemonOptions;
  readonly #library: Library;
  readonly #registrar: Registrar;
  readonly #dispatcher: TriggerDispatcher;
  readonly #cadence: KeepaliveCadence;
  readonly #startedAt = Date.now();
  #statusTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(
    o: RecorderDaemonOptions,
    parts: {
      library: Library;
      listener: DirectListener;
      link: NodeLink;
      load: RecorderLoad;
      pickup: InboxPickup;
      receiver: RecordingReceiver;
      registrar: Registrar;
      dispatcher: TriggerDispatcher;
      cadence: KeepaliveCadence;
    },
  ) {
    this.#o = o;
    this.#library = parts.library;
    this.listener = parts.listener;
    this.link = parts.link;
    this.load = parts.load;
    this.pickup = parts.pickup;
    this.receiver = parts.receiver;
    this.#registrar = parts.registrar;
    this.#dispatcher = parts.dispatcher;
    this.#cadence = parts.cadence;
  }

  static async start(o: RecorderDaemonOptions): Promise<RecorderDaemon> {
    const { config, credential } = o;
    const log = (event: string, fields: Record<string, unknown> = {}) =>
      o.log(
        `${new Date().toISOString()} recorder ${event}${Object.keys(fields).length ? ` ${fmt(fields)}` : ""}`,
      );
    let daemon: RecorderDaemon | undefined;
    const changed = () => daemon?.statusChanged();

    const library = await Library.open(config.dataDir, config.libraryDir);
    const monitor = new LoadMonitor({
      source: o.loadSource ?? new ProcLoadSource(),
      limits: config.loadLimits,
      onError: (err) => log("load-reading-failed", { message: (err as Error).message }),
    });
    monitor.start();
    const load = new RecorderLoad(monitor, new BusySwitch(config.dataDir));
    const allow = new DeviceAllowList(config.dataDir, config.allow);
    const client = new ControlClient({
      baseUrl: o.nodeUrl,
      deviceId: credential.id,
      secret: secretOf(credential),
      trust: credential.trust,
    });

    let keyring: SessionKeyring;
    const keyringPath = join(config.dataDir, SESSION_KEYRING_FILE);
    try {
      keyring = SessionKeyring.load(keyringPath);
    } catch (err) {
      log("session-keyring-damaged", { message: (err as Error).message });
      keyring = SessionKeyring.load(`${keyringPath}.missing`);
    }
    const tickets = new SessionTicketStore({ onConsumed: (id) => keyring.markUsed(id) });
    const arm = (p: PendingSession) => {
      if (p.mode !== "live") return;
      try {
        tickets.addPending(p);
      } catch {
        // already known: the node hands each grant out once, a repeat add would re-arm a used password
      }
    };
    for (const p of keyring.all()) if (!keyring.isUsed(p.id)) arm(p);

    const peers = new PeerPins(config.dataDir);
    const identity = await loadOrCreateIdentity(config.dataDir);
    await client.publishIdentity(identity.publicKey).then(
      () => log("identity-published", { fingerprint: identity.fingerprint }),
      (err: unknown) => log("identity-publish-failed", { message: (err as Error).message }),
    );

    let fetching: Promise<void> | undefined;
    const fetchSessions = (): Promise<void> => {
      fetching ??= (async () => {
        try {
          const got = await client.pendingSessions();
          for (const p of got) {
            const refusal = peers.verdict(p.caller.name, p.caller.publicKey);
            if (refusal !== undefined) {
              // Not kept, not armed: the caller's REQUEST finds no ticket and its relayed data no key.
              log("session-refused", { session: p.id, caller: p.caller.name, code: refusal.code });
              // Ending it tells the caller at once (its end trigger) instead of leaving it to wait for a receipt.
              void client.end(p.id, { reason: refusal.code, bytesDirect: 0, bytesRelay: 0 }).catch(() => {});
              continue;
            }
            p.key = await transferKeyFor(identity, p, { publicKey: p.caller.publicKey, role: "caller" });
            keyring.add(p);
            arm(p);
            log("session", { session: p.id, mode: p.mode, caller: p.caller.name });
          }
        } finally {
          fetching = undefined;
        }
      })();
      return fetching;
    };

    const receiver = new RecordingReceiver({ library, client, keyring, load, fetchSessions, log, changed });
    const listener = await listenDirect({
      host: config.listen.host,
      port: config.listen.port,
      tickets,
      onUnknownSession: () => fetchSessions(),
      onConnection: (conn, ticket) => {
        const stop = followLease({
          expiresAt: ticket.expiresAt,
          fetch: () => client.session(ticket.sessionId),
          onExtended: (at) => {
            tickets.extend(ticket.sessionId, at);
            receiver.leaseExtended(ticket.sessionId, at);
          },
          log: (event, fields) => log(event, { session: ticket.sessionId, ...fields }),
        });
        void conn.closed.then(stop);
        void receiver.onConnection(conn, ticket.callerName ?? ticket.callerId);
      },
      log: (e) =>
        log(
          e.code === "DIRECT_ACCEPTED" || e.code === "DIRECT_DENIED"
            ? e.code.toLowerCase().replace("_", "-")
            : "direct-refused",
          {
            code: e.code,
            remote: e.remote,
            session: e.sessionId,
            detail: e.detail,
          },
        ),
    });

    const pickup = new InboxPickup({
      client,
      load,
      receiver,
      fetchSessions,
      log,
      changed,
      ...(o.inboxEveryMs ? { everyMs: o.inboxEveryMs } : {}),
    });

    const cadence = new KeepaliveCadence({
      intervalMs: config.keepaliveSeconds * 1000,
      ...(o.keepaliveFloorMs !== undefined ? { floorMs: o.keepaliveFloorMs } : {}),
    });
    let link: NodeLink | undefined;
    const registrar = new Registrar({
      register: (address, port) => client.register(address, port),
      target: () => {
        const mapped = cadence.mapped;
        const adv = config.advertise;
        // An operator-set address (port forward) wins; else the node-observed public address with our port.
        if (adv) return { address: adv.host, port: adv.port || listener.port };
        if (!mapped) return undefined;
        return { address: mapped.slice(0, mapped.lastIndexOf(":")), port: listener.port };
      },
      log,
      onRegistered: changed,
    });

    const dispatcher = new TriggerDispatcher({
      deviceId: credential.id,
      key: deriveKey(credential.secretBytes(), "trigger"),
      sendAck: (bytes) =>
        void link
          ?.send(bytes)
          .catch((err: unknown) => log("ack-send-failed", { message: (err as Error).message })),
      log: (e) => {
        const { event, ...rest } = e;
        log(event, rest);
        changed();
      },
      handlers: {
        status: () => load.status().state,
        verdict: (t) => {
          const caller = t.ref.caller as { name?: unknown } | undefined;
          return typeof caller?.name === "string" && allow.permits(caller.name) ? "allow" : "deny";
        },
        contact: () => fetchSessions(),
        end: async (t) => {
          const session = String(t.ref.session ?? "");
          const reason = typeof t.ref.reason === "string" ? t.ref.reason : "ended";
          if (keyring.get(session)?.mode === "store") {
            // The sender ends a store session once the upload is in; the stored item is still to be picked up
            // (perhaps right now) with this grant's key, which goes after the pickup's ack or with the spool TTL.
            log("session-ended", { session, reason, grant: "kept" });
            return;
          }
          tickets.end(session);
          const had = receiver.endSession(session, reason);
          keyring.delete(session);
          log("session-ended", { session, reason, transfers: had ? "aborted" : "none" });
        },
        data: async (t) => {
          const transfer = t.ref.transfer;
          const session = t.ref.session;
          if (t.ref.kind === "store" || typeof transfer !== "string" || typeof session !== "string") {
            pickup.schedule("data trigger");
            return;
          }
          await receiver.receiveAnnounced(transfer, session);
        },
      },
    });

    link = await NodeLink.open({
      deviceId: credential.id,
      stunKey: keepaliveKey(credential.secretBytes()),
      node: o.nodeUdp,
      cadence,
      announcedIntervalSec: config.keepaliveSeconds,
      events: {
        answer: (mapped, outcome) => {
          const m = `${mapped.address}:${mapped.port}`;
          if (outcome.first) {
            log("mapping", { mapped: m });
            registrar.request("first keepalive answer");
          } else if (outcome.mappingChanged) {
            log("mapping-changed", { from: outcome.previous, to: m });
            registrar.request("mapping changed");
          } else if (outcome.recovered) {
            log("node-back", { mapped: m });
            registrar.request("node answered again");
            pickup.schedule("node back");
          }
          changed();
        },
        miss: (misses, lost) => {
          log("keepalive-unanswered", { misses, nextMs: cadence.intervalMs });
          if (lost) {
            log("mapping-lost", { misses });
            registrar.request("keepalive answers missing");
          }
          changed();
        },
        trigger: (bytes) => dispatcher.handle(bytes),
        log,
      },
    });

    daemon = new RecorderDaemon(o, {
      library,
      listener,
      link,
      load,
      pickup,
      receiver,
      registrar,
      dispatcher,
      cadence,
    });
    daemon.#writeStatus();
    link.start();
    pickup.start();
    void fetchSessions().catch((err: unknown) =>
      log("sessions-fetch-failed", { message: (err as Error).message }),
    );
    return daemon;
  }

  get direct(): string {
    return `${this.listener.host}:${this.listener.port}`;
  }

  statusChanged(): void {
    if (this.#closed || this.#statusTimer) return;
    // Coalesce bursts (a trigger, its log line, a transfer start) into one write.
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = undefined;
      this.#writeStatus();
    }, 20);
  }

  status(): RecorderStatus {
    const o = this.#o;
    return {
      pid: process.pid,
      device: o.credential.id,
      name: o.credential.name,
      startedAt: this.#startedAt,
      updatedAt: Date.now(),
      node: { url: o.nodeUrl, udp: `${o.nodeUdp.host}:${o.nodeUdp.port}` },
      direct: this.direct,
      udpPort: this.link.localPort,
      registered: this.#registrar.registered ?? null,
      registerError: this.#registrar.lastError ?? null,
      mapped: this.#cadence.mapped ?? null,
      lastKeepaliveAt: this.link.lastSentAt ?? null,
      lastAnswerAt: this.link.lastAnswerAt ?? null,
      keepaliveIntervalSec: this.#cadence.intervalMs / 1000,
      nodeReachable: this.link.lastAnswerAt !== undefined && !this.#cadence.lost,
      transfers: [...this.receiver.active.values()],
      inbox: {
        pending: this.pickup.pending.length,
        waitingForLoad: this.pickup.waitingForLoad,
        failed: [...this.pickup.failed.values()],
      },
      triggers: { ...this.#dispatcher.stats },
    };
  }

  #writeStatus(extra: Partial<RecorderStatus> = {}): void {
    try {
      writeStatus(this.#o.config.dataDir, { ...this.status(), ...extra });
    } catch (err) {
      this.#o.log(
        `${new Date().toISOString()} recorder status-write-failed message=${JSON.stringify((err as Error).message)}`,
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#statusTimer) clearTimeout(this.#statusTimer);
    this.pickup.close();
    this.#registrar.close();
    await this.link.close();
    await this.listener.close();
    this.load.monitor.stop();
    this.#writeStatus({ stoppedAt: Date.now() });
    this.#library.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The secret as the ControlClient wants it (base64url); read from the credential's own serialisation. */
function secretOf(c: DeviceCredential): string {
  return (JSON.parse(c.serialize()) as { secret: string }).secret;
}
