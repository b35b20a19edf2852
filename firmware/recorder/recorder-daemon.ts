/** @module The recorder daemon: keepalive and triggers, registration, direct listener, receiving, inbox pickup, status. */

import { deriveKey } from "../../crypto/hmac.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import type { HostPort } from "../config/config-value-parsers.ts";
import type { DeviceCredential } from "../config/credential-store.ts";
import type { RecorderConfig } from "../config/recorder-config.ts";
import type { DirectListener } from "../direct/direct-listener.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { Library } from "../library/library.ts";
import { LoadMonitor } from "../load/load-monitor.ts";
import { type LoadSource, ProcLoadSource } from "../load/load-source.ts";
import { PeerPins } from "../peers/peer-pins.ts";
import { DeviceAllowList } from "../permit/device-allow-list.ts";
import { BusySwitch } from "./busy-switch.ts";
import type { DaemonContext } from "./daemon-context.ts";
import { daemonLog, formatDaemonLine } from "./daemon-log.ts";
import { InboxPickup } from "./inbox-pickup.ts";
import { KeepaliveCadence } from "./keepalive-cadence.ts";
import { openKeepaliveLink } from "./keepalive-link.ts";
import type { NodeLink } from "./node-link.ts";
import { PartialReceives } from "./partial-receives.ts";
import { punchIntake } from "./punch-intake.ts";
import { startDirectListener } from "./recorder-direct-listener.ts";
import { RecorderLoad } from "./recorder-load.ts";
import { type RecorderStatus, writeStatus } from "./recorder-status-file.ts";
import { recorderTriggers } from "./recorder-triggers.ts";
import { RecordingReceiver } from "./recording-receiver.ts";
import { Registrar } from "./registrar.ts";
import { sessionEnding } from "./session-ending.ts";
import { SessionIntake } from "./session-intake.ts";
import { TriggerDispatcher, type TriggerHandlers } from "./trigger-dispatcher.ts";

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

/** The parts a running daemon holds, built by start()'s steps. */
interface DaemonParts {
  library: Library;
  listener: DirectListener;
  link: NodeLink;
  load: RecorderLoad;
  pickup: InboxPickup;
  receiver: RecordingReceiver;
  registrar: Registrar;
  dispatcher: TriggerDispatcher;
  cadence: KeepaliveCadence;
  partials: PartialReceives;
}

/** Step: the library database, the load monitor (started) with the busy switch, and the device-held allow-list. */
async function openStores(ctx: Pick<DaemonContext, "config" | "log">, loadSource: LoadSource | undefined) {
  const { config, log } = ctx;
  const library = await Library.open(config.dataDir, config.libraryDir);
  const monitor = new LoadMonitor({
    source: loadSource ?? new ProcLoadSource(),
    limits: config.loadLimits,
    onError: (err) => log("load-reading-failed", { message: (err as Error).message }),
  });
  monitor.start();
  const load = new RecorderLoad(monitor, new BusySwitch(config.dataDir));
  const allow = new DeviceAllowList(config.dataDir, config.allow);
  return { library, load, allow };
}

/**
 * Step: registration follows the keepalive mapping. An operator-set address (port forward) wins; else the
 * node-observed public address with the listener's port; nothing before the first answer.
 */
function startRegistrar(
  ctx: DaemonContext,
  parts: { cadence: KeepaliveCadence; listener: DirectListener },
): Registrar {
  const { config, client, log, changed } = ctx;
  const { cadence, listener } = parts;
  return new Registrar({
    register: (address, port) => client.register(address, port),
    target: () => {
      const mapped = cadence.mapped;
      const adv = config.advertise;
      if (adv) return { address: adv.host, port: adv.port || listener.port };
      if (!mapped) return undefined;
      return { address: mapped.slice(0, mapped.lastIndexOf(":")), port: listener.port };
    },
    log,
    onRegistered: changed,
  });
}

/** Step: verifies and answers triggers; ACKs leave through the keepalive socket once it is open. */
function startTriggerDispatch(
  ctx: DaemonContext,
  parts: { handlers: TriggerHandlers; link: () => NodeLink | undefined },
): TriggerDispatcher {
  const { credential, log, changed } = ctx;
  return new TriggerDispatcher({
    deviceId: credential.id,
    key: deriveKey(credential.secretBytes(), "trigger"),
    sendAck: (bytes) =>
      void parts
        .link()
        ?.send(bytes)
        .catch((err: unknown) => log("ack-send-failed", { message: (err as Error).message })),
    log: (e) => {
      const { event, ...rest } = e;
      log(event, rest);
      changed();
    },
    handlers: parts.handlers,
  });
}

/** The longest wait between two sweeps of expired partial receives. */
const PARTIAL_SWEEP_MS = 3600 * 1000;

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
  readonly #partials: PartialReceives;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Private (TypeScript's: JS has no #constructor) so a daemon exists only once start() has run its steps. */
  private constructor(o: RecorderDaemonOptions, parts: DaemonParts) {
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
    this.#partials = parts.partials;
  }

  /**
   * Interrupted live receives expire (config partialHoldSeconds, default 24 h): swept at start and then every
   * hour at most (or each hold period, if shorter), so their bytes do not outlive the resume window by much.
   */
  #sweepPartials(): void {
    const sweep = () =>
      void this.#partials.sweep().then(
        (n) => {
          if (n > 0) this.#o.log(formatDaemonLine("partials-swept", { removed: n }));
        },
        (err: unknown) =>
          this.#o.log(formatDaemonLine("partials-sweep-failed", { message: (err as Error).message })),
      );
    sweep();
    this.#sweepTimer = setInterval(
      sweep,
      Math.min(PARTIAL_SWEEP_MS, this.#o.config.partialHoldSeconds * 1000),
    );
    this.#sweepTimer.unref?.();
  }

  /**
   * Starts the daemon in steps: open the stores, re-arm kept sessions, start the receiver and the direct
   * listener, prepare the pickup, registration and trigger dispatch, open the keepalive link; then write the
   * first status, start keepalives and pickup, and fetch grants the node holds for this device.
   */
  static async start(o: RecorderDaemonOptions): Promise<RecorderDaemon> {
    let daemon: RecorderDaemon | undefined;
    let link: NodeLink | undefined;
    const { config, credential } = o;
    const log = daemonLog(o.log);
    const changed = () => daemon?.statusChanged();
    // Before the library sweeps its incoming dir: receives checkpointed when this daemon last died are kept.
    const partials = new PartialReceives(config.dataDir, { holdMs: config.partialHoldSeconds * 1000 });
    const adopted = await partials.adopt().catch((err: unknown) => {
      log("partials-adopt-failed", { message: (err as Error).message });
      return 0;
    });
    if (adopted > 0) log("partials-adopted", { adopted });
    const { library, load, allow } = await openStores({ config, log }, o.loadSource);
    const client = new ControlClient({
      baseUrl: o.nodeUrl,
      fallbackUrls: config.nodeUrlFallbacks,
      deviceId: credential.id,
      secret: secretOf(credential),
      trust: credential.trust,
    });
    const ctx: DaemonContext = { config, credential, client, log, changed };
    const identity = await loadOrCreateIdentity(config.dataDir);
    await client.publishIdentity(identity.publicKey).then(
      () => log("identity-published", { fingerprint: identity.fingerprint }),
      (err: unknown) => log("identity-publish-failed", { message: (err as Error).message }),
    );
    const peers = new PeerPins(config.dataDir);
    const sessions = new SessionIntake({ dataDir: config.dataDir, client, log, identity, peers });
    const fetchSessions = () => sessions.fetch();
    const receiver = new RecordingReceiver({
      partials,
      library,
      client,
      keyring: sessions.keyring,
      identity,
      load,
      fetchSessions,
      log,
      changed,
    });
    const ending = sessionEnding({ client, sessions, receiver, log });
    const listener = await startDirectListener(ctx, { sessions, receiver, allow, ending });
    sessions.onFetched = punchIntake({
      node: o.nodeUdp,
      deviceId: credential.id,
      secret: credential.secretBytes(),
      listener,
      log,
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
    const registrar = startRegistrar(ctx, { cadence, listener });
    const sendList = (request: string, list: { entries: string[]; groups: Record<string, string[]> }) =>
      ctx.client.sendPermissionList(request, list);
    const handlers = recorderTriggers({ load, allow, sessions, receiver, pickup, ending, log, sendList });
    const dispatcher = startTriggerDispatch(ctx, { handlers, link: () => link });
    link = await openKeepaliveLink(ctx, {
      node: o.nodeUdp,
      fallbacks: config.nodeUdpFallbacks,
      cadence,
      registrar,
      pickup,
      dispatcher,
    });

    const parts = {
      library,
      listener,
      link,
      load,
      pickup,
      receiver,
      registrar,
      dispatcher,
      cadence,
      partials,
    };
    daemon = new RecorderDaemon(o, parts);
    daemon.#sweepPartials();
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
      this.#o.log(formatDaemonLine("status-write-failed", { message: (err as Error).message }));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#statusTimer) clearTimeout(this.#statusTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
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
