/** @module Starts and stops one control node: database, UDP endpoint, HTTP server and housekeeping timers. */
import type { NodeAddresses } from "../protocol/api-types.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import { type ControlContext, createControlContext, NO_TRIGGERS, setTriggerTarget } from "./control-app.ts";
import { type ControlConfig, parseHostPort } from "./control-config.ts";
import {
  finalFlush,
  formatHostPort,
  type HttpService,
  openNodeStores,
  serveHttp,
  startTimers,
  startUdp,
} from "./node-steps.ts";
import { loadOrCreateNodeCertificate, type NodeCertificate } from "./tls/node-certificate.ts";
import type { UdpEndpoint } from "./udp/udp-endpoint.ts";

export { DATABASE_FILE, formatHostPort, SPOOL_DIR, storeSpec } from "./node-steps.ts";

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

/** The URL and pin credentials carry: `publicHttp` as given when it is a URL, else the scheme the node serves. */
export function nodeAddressesOf(http: string, udp: string, tls: NodeCertificate | null): NodeAddresses {
  const url = http.includes("://") ? http : `${tls === null ? "http" : "https"}://${http}`;
  return tls?.trust === "pin" ? { http: url, udp, pin: tls.pin } : { http: url, udp };
}

/** The embedded node (role all): one process serving HTTP and UDP over one store. */
export async function startControlNode(
  config: ControlConfig,
  log: (msg: string) => void,
): Promise<ControlNode> {
  const stores = await openNodeStores(config, log);
  const adminToken = loadOrCreateAdminToken(config.data, config.adminToken);
  const httpAddr = parseHostPort(config.http, "--http");
  const udpAddr = parseHostPort(config.udp, "--udp");
  const tls = config.insecureHttp
    ? null
    : await loadOrCreateNodeCertificate(config.data, { cert: config.tlsCert, key: config.tlsKey });

  let bound = { http: config.http, udp: config.udp };
  const ctx = await createControlContext({
    config,
    store: stores.store,
    adminToken,
    spoolDir: stores.spoolDir,
    spool: stores.spool,
    triggers: NO_TRIGGERS,
    nodeAddresses: () => nodeAddressesOf(config.publicHttp ?? bound.http, config.publicUdp ?? bound.udp, tls),
    log,
  });
  const udpEndpoint = await startUdp(
    ctx,
    (id, address, port, intervalSec) => ctx.keepalives.record(id, address, port, intervalSec),
    log,
  );
  setTriggerTarget(ctx, udpEndpoint);

  let service: HttpService;
  try {
    service = await serveHttp(ctx, stores, { tls, log });
  } catch (err) {
    await udpEndpoint.close();
    await stores.close();
    throw err;
  }
  const { server } = service;
  const http = { host: httpAddr.host, port: server.port ?? httpAddr.port };
  let stopping = false;
  ctx.notReadyReason = () => (stopping ? "shutting down" : null);
  const udp = { host: udpAddr.host, port: udpEndpoint.address.port };
  bound = { http: formatHostPort(http), udp: formatHostPort(udp) };
  const stopTimers = startTimers(
    ctx,
    { flush: true, housekeeping: true, sweepSpool: service.sweepSpool },
    log,
  );

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
        stopTimers();
        await server.stop(true);
        await udpEndpoint.close();
        await finalFlush(ctx, log);
        await stores.close();
      })();
      return closing;
    },
  };
}
