/** @module Starts and stops one control node: database, UDP endpoint, HTTP server and housekeeping timers. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { NodeAddresses } from "../protocol/api-types.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import {
  type ControlContext,
  createControlApp,
  createControlContext,
  NO_TRIGGERS,
  setTriggerTarget,
} from "./control-app.ts";
import { type ControlConfig, parseHostPort } from "./control-config.ts";
import { createRelayRoutes } from "./relay/relay-routes.ts";
import { openControlDatabase } from "./store/control-database.ts";
import { loadOrCreateNodeCertificate, type NodeCertificate } from "./tls/node-certificate.ts";
import { UdpEndpoint } from "./udp/udp-endpoint.ts";

export const DATABASE_FILE = "control.db";
export const SPOOL_DIR = "spool";
/** Keepalive mappings are written behind at this period (see KeepaliveTable). */
const FLUSH_MS = 1000;
/** Nonce pruning, lease expiry and bucket pruning run at this period. */
const HOUSEKEEPING_MS = 15_000;

export interface ControlNode {
  readonly http: { host: string; port: number };
  readonly udp: { host: string; port: number };
  readonly ctx: ControlContext;
  readonly udpEndpoint: UdpEndpoint;
  /** The TLS identity served, null under --insecure-http. */
  readonly tls: NodeCertificate | null;
  /** Stops accepting, closes the sockets, flushes keepalives and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** HOST:PORT with IPv6 hosts in brackets (RFC 3986 3.2.2), as printed on the first line and in credentials. */
export function formatHostPort(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The URL and pin credentials carry: `publicHttp` as given when it is a URL, else the scheme the node serves. */
export function nodeAddressesOf(http: string, udp: string, tls: NodeCertificate | null): NodeAddresses {
  const url = http.includes("://") ? http : `${tls === null ? "http" : "https"}://${http}`;
  return tls?.trust === "pin" ? { http: url, udp, pin: tls.pin } : { http: url, udp };
}

export async function startControlNode(
  config: ControlConfig,
  log: (msg: string) => void,
): Promise<ControlNode> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const spoolDir = config.spoolDir ?? join(config.data, SPOOL_DIR);
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  const db = openControlDatabase(join(config.data, DATABASE_FILE));
  const adminToken = loadOrCreateAdminToken(config.data, config.adminToken);
  const httpAddr = parseHostPort(config.http, "--http");
  const udpAddr = parseHostPort(config.udp, "--udp");
  const tls = config.insecureHttp
    ? null
    : await loadOrCreateNodeCertificate(config.data, { cert: config.tlsCert, key: config.tlsKey });

  let bound = { http: config.http, udp: config.udp };
  const ctx = createControlContext({
    config,
    db,
    adminToken,
    spoolDir,
    triggers: NO_TRIGGERS,
    nodeAddresses: () => nodeAddressesOf(config.publicHttp ?? bound.http, config.publicUdp ?? bound.udp, tls),
    log,
  });
  const udpEndpoint = await UdpEndpoint.start({
    host: udpAddr.host,
    port: udpAddr.port,
    lookupSecret: (id) => ctx.devices.secretOf(id),
    onKeepalive: (id, address, port, intervalSec) => {
      ctx.metrics.keepalives.inc();
      ctx.keepalives.record(id, address, port, intervalSec);
    },
    onTriggerResend: () => ctx.metrics.triggersRetried.inc(),
    sessionParties: (id) => {
      const s = ctx.sessions.get(id);
      return s && s.state === "active" && s.mode === "live" ? s : null;
    },
    rateLimit:
      config.udpRateLimitPerSec > 0
        ? { perSecond: config.udpRateLimitPerSec, burst: Math.max(1, config.udpRateLimitBurst) }
        : false,
    log,
  });
  setTriggerTarget(ctx, udpEndpoint);

  const relayRoutes = createRelayRoutes({
    db,
    spoolDir,
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
      ctx.sessions.addRelayBytes(sessionId, bytes);
    },
    deviceName: (id) => ctx.devices.byId(id)?.name ?? null,
    log,
  });
  const app = createControlApp(ctx, relayRoutes);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: httpAddr.host,
      port: httpAddr.port,
      fetch: app.fetch,
      // Streamed relay uploads are bounded by the relay threshold, not by Bun's 128 MiB default.
      maxRequestBodySize: config.relayThresholdBytes + 1024 * 1024,
      idleTimeout: 120,
      ...(tls === null ? {} : { tls: { cert: tls.cert, key: tls.key } }),
    });
  } catch (err) {
    await udpEndpoint.close();
    db.close();
    throw err;
  }
  const http = { host: httpAddr.host, port: server.port ?? httpAddr.port };
  let stopping = false;
  ctx.notReadyReason = () => (stopping ? "shutting down" : null);
  const udp = { host: udpAddr.host, port: udpEndpoint.address.port };
  bound = { http: formatHostPort(http), udp: formatHostPort(udp) };

  // No timer may end the process (issue 21 item 2): a failed flush (disk full) keeps the mappings in memory.
  const flushTimer = setInterval(() => {
    try {
      ctx.keepalives.flush();
    } catch (err) {
      log(`keepalive flush failed: ${(err as Error).message}`);
    }
  }, FLUSH_MS);
  const houseTimer = setInterval(() => {
    try {
      ctx.nonces.prune();
      ctx.limiter.prune();
      for (const id of ctx.sessions.sweep()) log(`session ${id} expired`);
      relayRoutes.sweep();
    } catch (err) {
      log(`housekeeping failed: ${(err as Error).message}`);
    }
  }, HOUSEKEEPING_MS);

  let closing: Promise<void> | null = null;
  return {
    http,
    udp,
    ctx,
    udpEndpoint,
    tls,
    close() {
      closing ??= (async () => {
        stopping = true;
        clearInterval(flushTimer);
        clearInterval(houseTimer);
        await server.stop(true);
        await udpEndpoint.close();
        try {
          ctx.keepalives.flush();
        } catch (err) {
          log(`keepalive flush failed: ${(err as Error).message}`);
        }
        db.close();
      })();
      return closing;
    },
  };
}
