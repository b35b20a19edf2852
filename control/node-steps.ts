/** @module The steps a control node is started from, shared by the embedded node (role all) and the cluster roles: stores, UDP, relay, HTTP, timers. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ControlContext, createControlApp } from "./control-app.ts";
import { type ControlConfig, parseHostPort } from "./control-config.ts";
import { createRelayRoutes } from "./relay/relay-routes.ts";
import { spoolBlobsFor } from "./spool/spool-backend.ts";
import { SpoolStore } from "./spool/spool-store.ts";
import { openControlStore } from "./store/open-control-store.ts";
import type { SqlDriver } from "./store/sql-driver.ts";
import type { NodeCertificate } from "./tls/node-certificate.ts";
import { type KeepaliveSink, UdpEndpoint } from "./udp/udp-endpoint.ts";

export const DATABASE_FILE = "control.db";
export const SPOOL_DIR = "spool";
/** Keepalive mappings are written behind at this period (see KeepaliveTable). */
const FLUSH_MS = 1000;
/** Nonce pruning, lease expiry and bucket pruning run at this period. */
const HOUSEKEEPING_MS = 15_000;

/** The store a config names: its `store` URL, or the embedded sqlite file in the data directory. */
export function storeSpec(config: ControlConfig): string {
  return config.store ?? join(config.data, DATABASE_FILE);
}

/** HOST:PORT with IPv6 hosts in brackets (RFC 3986 3.2.2), as printed on the first line and in credentials. */
export function formatHostPort(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export interface NodeStores {
  store: SqlDriver;
  /** The spool: its index in the store, its bytes in spoolDir (default) or on S3 (`spool: s3://...`). */
  spool: SpoolStore;
  spoolDir: string;
  close(): Promise<void>;
}

export async function openNodeStores(
  config: ControlConfig,
  log: (msg: string) => void = () => {},
): Promise<NodeStores> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const spoolDir = config.spoolDir ?? join(config.data, SPOOL_DIR);
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  const blobs = spoolBlobsFor(config, spoolDir);
  // A serving node: its WAL checkpoints run on a thread of their own, off the event loop.
  const store = await openControlStore(storeSpec(config), { checkpointThread: true });
  return {
    store,
    spool: new SpoolStore(store, blobs, log),
    spoolDir,
    async close() {
      await store.close();
    },
  };
}

/** The UDP endpoint on config.udp, its secrets read from the device store. */
export function startUdp(
  ctx: ControlContext,
  onKeepalive: KeepaliveSink,
  log: (msg: string) => void,
): Promise<UdpEndpoint> {
  const { config } = ctx;
  const udpAddr = parseHostPort(config.udp, "--udp");
  return UdpEndpoint.start({
    host: udpAddr.host,
    port: udpAddr.port,
    lookupSecret: (id) => ctx.devices.cachedSecret(id) ?? null,
    loadSecret: (id) => ctx.devices.secretOf(id),
    onKeepalive: (id, address, port, intervalSec) => {
      ctx.metrics.keepalives.inc();
      onKeepalive(id, address, port, intervalSec);
    },
    onTriggerResend: () => ctx.metrics.triggersRetried.inc(),
    sessionParties: async (id) => {
      const s = await ctx.sessions.get(id);
      return s && s.state === "active" && s.mode === "live" ? s : null;
    },
    rateLimit:
      config.udpRateLimitPerSec > 0
        ? { perSecond: config.udpRateLimitPerSec, burst: Math.max(1, config.udpRateLimitBurst) }
        : false,
    log,
  });
}

/** The HTTP server and the relay's spool sweep, which the housekeeping timer runs too. */
export interface HttpService {
  server: ReturnType<typeof Bun.serve>;
  /** Drops expired and orphaned spool files: an idle node must not keep them until the next request. */
  sweepSpool(): Promise<void>;
}

/** The device API (with the relay over the spool) on config.http, over HTTPS unless tls is null. */
export async function serveHttp(
  ctx: ControlContext,
  stores: NodeStores,
  o: { tls: NodeCertificate | null; log: (msg: string) => void },
): Promise<HttpService> {
  const { log } = o;
  const { config } = ctx;
  const relayRoutes = createRelayRoutes({
    spool: stores.spool,
    thresholdBytes: config.relayThresholdBytes,
    quotaBytes: config.relayQuotaBytes,
    ttlSec: config.relayTtlSec,
    capacity: { capBytes: config.spoolCapBytes, reserveBytes: config.spoolReserveBytes },
    getSession: (id) => ctx.sessions.get(id),
    // Seed A S2615: "data waiting" goes to the recipient through the trigger path; an unreachable one fetches later.
    notify: (deviceId, kind, ref) => {
      void ctx.triggers
        .trigger(deviceId, kind, ref, { deadlineMs: config.triggerDeadlineMs })
        .catch((err: unknown) => log(`data trigger to ${deviceId} failed: ${(err as Error).message}`));
    },
    onBytes: (sessionId, bytes) => {
      ctx.metrics.relayBytes.inc({}, bytes);
      void ctx.sessions
        .addRelayBytes(sessionId, bytes)
        .catch((err: unknown) => log(`relay accounting of ${sessionId} failed: ${(err as Error).message}`));
    },
    deviceName: async (id) => (await ctx.devices.byId(id))?.name ?? null,
    log,
  });
  const app = createControlApp(ctx, relayRoutes);
  const httpAddr = parseHostPort(config.http, "--http");
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: httpAddr.host,
      port: httpAddr.port,
      fetch: app.fetch,
      // Streamed relay uploads are bounded by the relay threshold, not by Bun's 128 MiB default.
      maxRequestBodySize: config.relayThresholdBytes + 1024 * 1024,
      idleTimeout: 120,
      ...(o.tls === null ? {} : { tls: { cert: o.tls.cert, key: o.tls.key } }),
    });
  } catch (err) {
    // The spool's start-up work is under way on the store; the caller closes the store next, so let it finish
    // (a busy port must end in its one error line, not in reconciliation failures on a closed database).
    await relayRoutes.started;
    throw err;
  }
  return { server, sweepSpool: async () => await relayRoutes.sweep() };
}

/**
 * The node's timers: the keepalive write-behind (nodes with a UDP endpoint) and housekeeping (nodes serving
 * HTTP). No timer may end the process (issue 21 item 2): a failed flush (disk full) keeps the mappings in memory.
 * Returns a function that stops them.
 */
export function startTimers(
  ctx: ControlContext,
  o: { flush: boolean; housekeeping: boolean; sweepSpool?: () => Promise<void> },
  log: (msg: string) => void,
): () => void {
  const timers: Array<ReturnType<typeof setInterval>> = [];
  if (o.flush) {
    timers.push(
      setInterval(() => {
        ctx.keepalives
          .flush()
          .catch((err: unknown) => log(`keepalive flush failed: ${(err as Error).message}`));
      }, FLUSH_MS),
    );
  }
  if (o.housekeeping) {
    timers.push(
      setInterval(() => {
        void (async () => {
          await ctx.nonces.prune();
          ctx.limiter.prune();
          for (const id of await ctx.sessions.sweep()) log(`session ${id} expired`);
          await o.sweepSpool?.();
        })().catch((err: unknown) => log(`housekeeping failed: ${(err as Error).message}`));
      }, HOUSEKEEPING_MS),
    );
  }
  return () => {
    for (const t of timers) clearInterval(t);
  };
}

/** The last keepalive write at shutdown; a failure is logged, not thrown, so the rest still closes. */
export async function finalFlush(ctx: ControlContext, log: (msg: string) => void): Promise<void> {
  try {
    await ctx.keepalives.flush({ final: true });
  } catch (err) {
    log(`keepalive flush failed: ${(err as Error).message}`);
  }
}
