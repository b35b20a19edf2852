/** @module One process of a cluster (`control serve --role http|udp`): an HTTP node or a UDP node over the shared store and the NATS bus. */
import { randomToken } from "../crypto/random-token.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import { DeviceOwnerStore } from "./cluster/device-owner-store.ts";
import { NatsBus } from "./cluster/nats-bus.ts";
import { NatsTriggerPort } from "./cluster/nats-trigger-port.ts";
import { OwnerClaims } from "./cluster/owner-claims.ts";
import { StoreKeepaliveView } from "./cluster/store-keepalive-view.ts";
import { serveTriggers } from "./cluster/trigger-responder.ts";
import { createControlContext, NO_TRIGGERS } from "./control-app.ts";
import { type ControlConfig, parseHostPort } from "./control-config.ts";
import { nodeAddressesOf } from "./control-node.ts";
import * as steps from "./node-steps.ts";
import { KeepaliveTable } from "./store/keepalive-table.ts";
import { loadOrCreateNodeCertificate } from "./tls/node-certificate.ts";

export interface RoleNode {
  readonly role: "http" | "udp";
  /** The bound address of what this role serves; the other is null. */
  readonly http: { host: string; port: number } | null;
  readonly udp: { host: string; port: number } | null;
  /** A UDP node's id on the bus and in device_owner. */
  readonly nodeId: string | null;
  close(): Promise<void>;
}

/** Starts config.role ("http" or "udp"); loadConfig has checked it names a PostgreSQL store and NATS. */
export async function startRoleNode(config: ControlConfig, log: (msg: string) => void): Promise<RoleNode> {
  if (config.role === "all" || config.nats === null)
    throw new RangeError("Cannot start a role node: role all");
  const stores = await steps.openNodeStores(config, log);
  let bus: NatsBus;
  try {
    bus = await NatsBus.connect(config.nats, { name: `pvrlink-${config.role}`, log });
  } catch (err) {
    await stores.close();
    throw err;
  }
  const owners = new DeviceOwnerStore(stores.store);
  const adminToken = loadOrCreateAdminToken(config.data, config.adminToken);
  const base = {
    config,
    store: stores.store,
    adminToken,
    spoolDir: stores.spoolDir,
    spool: stores.spool,
    log,
  };
  const shutdown = async (closeSockets: () => Promise<void>) => {
    await closeSockets();
    await bus.close();
    await stores.close();
  };

  if (config.role === "http") {
    // HTTPS as the embedded node serves it; behind a TLS-terminating load balancer, --insecure-http.
    const tls = config.insecureHttp
      ? null
      : await loadOrCreateNodeCertificate(config.data, { cert: config.tlsCert, key: config.tlsKey });
    const ctx = await createControlContext({
      ...base,
      triggers: new NatsTriggerPort({ bus, owners, log }),
      keepalives: {
        table: KeepaliveTable.changesOnly(stores.store, config.connectedIntervals),
        lookup: new StoreKeepaliveView(stores.store, owners),
      },
      nodeAddresses: () =>
        nodeAddressesOf(config.publicHttp ?? config.http, config.publicUdp ?? config.udp, tls),
    });
    const { server, sweepSpool } = await steps.serveHttp(ctx, stores, { tls, log });
    const stopTimers = steps.startTimers(ctx, { flush: false, housekeeping: true, sweepSpool }, log);
    const addr = parseHostPort(config.http, "--http");
    let closing: Promise<void> | null = null;
    return {
      role: "http",
      http: { host: addr.host, port: server.port ?? addr.port },
      udp: null,
      nodeId: null,
      close: () => {
        closing ??= shutdown(async () => {
          stopTimers();
          await server.stop(true);
        });
        return closing;
      },
    };
  }

  const nodeId = config.nodeId ?? `udp-${randomToken(6)}`;
  const table = KeepaliveTable.changesOnly(stores.store, config.connectedIntervals);
  const ctx = await createControlContext({
    ...base,
    triggers: NO_TRIGGERS,
    keepalives: { table, lookup: table },
  });
  const claims = new OwnerClaims({ owners, nodeId, table, log });
  const endpoint = await steps.startUdp(ctx, (id, a, p, iv) => claims.onKeepalive(id, a, p, iv), log);
  serveTriggers({ bus, nodeId, endpoint, log });
  await bus.flush();
  const stopTimers = steps.startTimers(ctx, { flush: true, housekeeping: false }, log);
  log(`udp node ${nodeId} on ${steps.formatHostPort(endpoint.address)}`);
  let closing: Promise<void> | null = null;
  return {
    role: "udp",
    http: null,
    udp: { host: endpoint.address.host, port: endpoint.address.port },
    nodeId,
    close: () => {
      closing ??= shutdown(async () => {
        stopTimers();
        await endpoint.close();
        await steps.finalFlush(ctx, log);
      });
      return closing;
    },
  };
}
