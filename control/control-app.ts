/** @module Assembles the control node's Hono app: error mapping, operations endpoints, enrollment, device auth, device/session/relay routes, admin and the console. */
import { Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import type { EnrollResponse, NodeAddresses } from "../protocol/api-types.ts";
import { createConsoleRoutes } from "./console/console-routes.tsx";
import type { ControlConfig } from "./control-config.ts";
import { ApiError } from "./errors/api-error.ts";
import { type DeviceEnv, deviceAuth } from "./http/device-auth.ts";
import { onlyFields, parseJsonObject, readLimited, reqString } from "./http/json-body.ts";
import { publicOnly } from "./http/public-address.ts";
import { RateLimiter } from "./http/rate-limiter.ts";
import { createAdminOpsRoutes } from "./ops/admin-ops-routes.ts";
import { deviceStateCounts } from "./ops/device-state-counts.ts";
import { NodeMetrics } from "./ops/node-metrics.ts";
import { createOpsRoutes, metricsMiddleware } from "./ops/ops-routes.ts";
import { DeviceListRequests } from "./query/device-list-requests.ts";
import { hostResolver, ownAddresses } from "./query/host-resolution.ts";
import { QueryService, tcpConnectProbe } from "./query/query-service.ts";
import { SessionRevocation } from "./query/session-revocation.ts";
import { StoreOfferPolicy } from "./query/store-offer.ts";
import type { TriggerPort } from "./query/trigger-port.ts";
import { createAdminRoutes, spoolUsage } from "./routes/admin-routes.ts";
import { createDeviceRoutes } from "./routes/device-routes.ts";
import { createIdentityRoutes } from "./routes/identity-routes.ts";
import { createPermissionListRoutes } from "./routes/permission-list-routes.ts";
import { createSessionRoutes } from "./routes/session-routes.ts";
import { FileBlobs } from "./spool/file-blobs.ts";
import { SpoolStore } from "./spool/spool-store.ts";
import { AllowListStore } from "./store/allow-list-store.ts";
import { DeviceStore } from "./store/device-store.ts";
import { isDiskFull } from "./store/disk-full.ts";
import { IdentityKeyStore } from "./store/identity-key-store.ts";
import { type KeepaliveLookup, KeepaliveTable } from "./store/keepalive-table.ts";
import { NonceStore } from "./store/nonce-store.ts";
import { SessionStore } from "./store/session-store.ts";
import type { SqlDriver } from "./store/sql-driver.ts";

/** Everything the routes share; built once per process by createControlContext. */
export interface ControlContext {
  config: ControlConfig;
  /** The store every node of a deployment shares (sqlite file, or PostgreSQL). */
  store: SqlDriver;
  devices: DeviceStore;
  allow: AllowListStore;
  keepalives: KeepaliveTable;
  /** Where queries and the admin view read keepalives: the table, or the store on a cluster's HTTP node. */
  keepaliveLookup: KeepaliveLookup;
  sessions: SessionStore;
  nonces: NonceStore;
  limiter: RateLimiter;
  query: QueryService;
  identityKeys: IdentityKeyStore;
  /** Policy "list": the device-sent lists queries wait for (seed B embodiment 1). */
  lists: DeviceListRequests;
  triggers: TriggerPort;
  revocation: SessionRevocation;
  adminToken: string;
  spoolDir: string;
  /** The spool: its index in the store, its bytes in spoolDir or on S3 (control/spool). */
  spool: SpoolStore;
  nodeAddresses: () => NodeAddresses;
  log: (msg: string) => void;
  /** Counters and histograms for /metrics (control/ops); gauges read the stores at scrape time. */
  metrics: NodeMetrics;
  /** Null when the node can serve; otherwise why not (for /readyz). Set by control-node once sockets are bound. */
  notReadyReason: () => string | null;
}

/** Stands in until the UDP endpoint is bound: every trigger times out at once (no device is reachable). */
export const NO_TRIGGERS: TriggerPort = { trigger: async () => null };

export async function createControlContext(o: {
  config: ControlConfig;
  store: SqlDriver;
  adminToken: string;
  spoolDir: string;
  /** Default: the filesystem spool in spoolDir, indexed in the store. */
  spool?: SpoolStore;
  triggers: TriggerPort;
  nodeAddresses?: () => NodeAddresses;
  log?: (msg: string) => void;
  /** A cluster role's table and lookup (control/cluster/role-node.ts); default the embedded node's loaded table. */
  keepalives?: { table: KeepaliveTable; lookup: KeepaliveLookup };
}): Promise<ControlContext> {
  const { config, store: db } = o;
  const log = o.log ?? (() => {});
  const devices = new DeviceStore(db);
  const allow = new AllowListStore(db, config.maxListEntries);
  const keepalives = o.keepalives?.table ?? (await KeepaliveTable.load(db, config.connectedIntervals));
  const keepaliveLookup = o.keepalives?.lookup ?? keepalives;
  const sessions = new SessionStore(db, {
    durationSec: config.sessionDurationSec,
    connectWindowSec: config.connectWindowSec,
    extensionSec: config.extensionSec,
    maxExtensions: config.maxExtensions,
    maxTotalSec: config.maxTotalSec,
  });
  const metrics = new NodeMetrics();
  // A mutable holder, so the UDP endpoint can be plugged in after the context exists (it needs the stores).
  // It also counts triggers and times their ACKs for /metrics.
  const triggers: TriggerPort & { target: TriggerPort } = {
    target: o.triggers,
    async trigger(id, kind, ref, opts) {
      const started = performance.now();
      metrics.triggersSent.inc({ kind });
      const answer = await this.target.trigger(id, kind, ref, opts);
      if (answer === null) metrics.triggersFailed.inc({ kind });
      else metrics.triggerLatency.observe((performance.now() - started) / 1000, { kind });
      return answer;
    },
  };
  const identityKeys = new IdentityKeyStore(db);
  const lists = new DeviceListRequests(triggers);
  // The spool's index is in the store: every node's offer counts the whole deployment's spool.
  const spool = o.spool ?? new SpoolStore(db, () => new FileBlobs(o.spoolDir), log);
  const query = new QueryService({
    devices,
    allow,
    keepalives: keepaliveLookup,
    sessions,
    triggers,
    triggerDeadlineMs: config.triggerDeadlineMs,
    // A registration from before issue 21 item 9 may hold any address: the probe checks again.
    tcpProbe: config.tcpProbe
      ? publicOnly(tcpConnectProbe(config.tcpProbeTimeoutMs), config.allowPrivateAddresses)
      : null,
    storeDeliverWithinSec: config.relayTtlSec,
    identityKeyOf: (id) => identityKeys.keyOf(id),
    refusalDeadlineMs: config.refusalDeadlineMs,
    lists,
    hostResolution: {
      resolve: hostResolver(config.dnsServer),
      allowPrivate: config.allowPrivateAddresses,
      own: ownAddresses,
    },
    storeOffer: new StoreOfferPolicy(spool, {
      thresholdBytes: config.relayThresholdBytes,
      quotaBytes: config.relayQuotaBytes,
      capBytes: config.spoolCapBytes,
      reserveBytes: config.spoolReserveBytes,
    }),
    log,
  });
  // The gauges read a snapshot the /metrics route refreshes from the store before each scrape.
  let snapshot = {
    devices: { connected: 0, disconnected: 0, disabled: 0 },
    activeSessions: 0,
    spool: { files: 0, bytes: 0 },
  };
  metrics.refresh = async () => {
    snapshot = {
      devices: await deviceStateCounts({ devices, keepalives: keepaliveLookup }),
      activeSessions: await sessions.activeCount(),
      spool: (await spool.storedUsage()) ?? spoolUsage(o.spoolDir),
    };
  };
  metrics.sources = {
    devicesByState: () => snapshot.devices,
    activeSessions: () => snapshot.activeSessions,
    spool: () => snapshot.spool,
  };
  return {
    config,
    store: db,
    devices,
    allow,
    keepalives,
    keepaliveLookup,
    sessions,
    nonces: new NonceStore(db, 60_000),
    limiter: new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst),
    query,
    identityKeys,
    lists,
    triggers,
    revocation: new SessionRevocation({
      sessions,
      allow,
      devices,
      triggers,
      triggerDeadlineMs: config.triggerDeadlineMs,
      storeLifetimeMs: config.relayTtlSec * 1000,
      log,
    }),
    adminToken: o.adminToken,
    spoolDir: o.spoolDir,
    spool,
    nodeAddresses: o.nodeAddresses ?? (() => ({ http: `http://${config.http}`, udp: config.udp })),
    log,
    metrics,
    notReadyReason: () => null,
  };
}

/** Replaces the trigger sender (the context's holder forwards to it). */
export function setTriggerTarget(ctx: ControlContext, target: TriggerPort): void {
  (ctx.triggers as TriggerPort & { target: TriggerPort }).target = target;
}

/** Streamed data routes of control/relay, whose bodies are AEAD-sealed end to end and may be UNSIGNED-PAYLOAD. */
const UNSIGNED_ROUTE = /^\/v1\/transfers\/[^/]+\/data$/;

export function createControlApp(
  ctx: ControlContext,
  // biome-ignore lint/suspicious/noExplicitAny: any sub-app reading c.get("deviceId") mounts after device auth.
  relayRoutes: Hono<any> | null = null,
): Hono {
  const app = new Hono<DeviceEnv>();
  const { config } = ctx;

  // The one place errors become responses: typed errors keep their status and code, anything else is a 500
  // whose detail goes to the log (never to the client, never with request bodies).
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body(), err.status);
    if (isDiskFull(err)) {
      // Whatever needs space is refused as such; everything else keeps working (issue 21 item 2).
      ctx.log(`disk full on ${c.req.method} ${c.req.path}: ${(err as Error).message}`);
      const full = new ApiError(507, "insufficient_storage", "Cannot do this now: the node's disk is full");
      return c.json(full.body(), full.status);
    }
    ctx.log(`internal error on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? String(err)}`);
    return c.json({ error: { code: "internal_error", message: "Internal error" } }, 500);
  });
  app.use("*", metricsMiddleware(ctx.metrics));
  app.route(
    "/",
    createOpsRoutes({
      metrics: ctx.metrics,
      notReadyReason: async () => {
        await ctx.store.get("SELECT 1 AS one");
        return ctx.notReadyReason();
      },
    }),
  );
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` } }, 404),
  );

  // Enrollment is the one unauthenticated device route; a node-wide bucket keeps token guessing slow.
  const enrollLimiter = new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
  app.post("/v1/enroll", async (c) => {
    if (!enrollLimiter.take("enroll"))
      throw new ApiError(429, "rate_limited", "Too many enrollment attempts");
    // The answer is the device secret: it travels over TLS only, ours or a reverse proxy's that says so.
    const overTls =
      new URL(c.req.url).protocol === "https:" ||
      (config.insecureHttp && c.req.header("x-forwarded-proto") === "https");
    if (!overTls) throw new ApiError(403, "tls_required", "Cannot enroll over plain HTTP: use https://");
    const o = parseJsonObject(await readLimited(c.req.raw, config.maxBodyBytes));
    onlyFields(o, ["token", "name"]);
    const token = reqString(o, "token", 128);
    const name = reqString(o, "name", 64);
    const cred: EnrollResponse = await ctx.devices.redeemEnrollmentToken(token, name);
    ctx.log(`enroll: ${cred.id} redeemed a token`);
    return c.json(cred, 201);
  });

  const auth = deviceAuth({
    secretOf: (id) => ctx.devices.secretOf(id),
    nonces: ctx.nonces,
    limiter: ctx.limiter,
    maxClockSkewMs: 60_000,
    maxBodyBytes: config.maxBodyBytes,
    allowsUnsigned: (method, path) => method === "PUT" && UNSIGNED_ROUTE.test(path),
  });
  app.use("/v1/*", (c, next) => (c.req.path === "/v1/enroll" ? next() : auth(c, next)));
  app.route(
    "/v1",
    createDeviceRoutes({
      devices: ctx.devices,
      allow: ctx.allow,
      maxListEntries: config.maxListEntries,
      allowPrivateAddresses: config.allowPrivateAddresses,
      revocation: ctx.revocation,
    }),
  );
  app.route(
    "/v1",
    createSessionRoutes({
      sessions: ctx.sessions,
      query: ctx.query,
      triggers: ctx.triggers,
      triggerDeadlineMs: config.triggerDeadlineMs,
      log: ctx.log,
    }),
  );
  app.route("/v1", createIdentityRoutes(ctx.identityKeys));
  app.route("/v1", createPermissionListRoutes({ lists: ctx.lists, maxListEntries: config.maxListEntries }));
  if (relayRoutes) app.route("/v1", relayRoutes);

  app.route(
    "/admin",
    createAdminRoutes({
      adminToken: ctx.adminToken,
      devices: ctx.devices,
      keepalives: ctx.keepaliveLookup,
      sessions: ctx.sessions,
      revocation: ctx.revocation,
      triggers: ctx.triggers,
      triggerDeadlineMs: config.triggerDeadlineMs,
      enrollmentTokenTtlSec: config.enrollmentTokenTtlSec,
      spoolUsage: async () => (await ctx.spool.storedUsage()) ?? spoolUsage(ctx.spoolDir),
      maxBodyBytes: config.maxBodyBytes,
      nodeAddresses: ctx.nodeAddresses,
      identityKeys: ctx.identityKeys,
      log: ctx.log,
    }),
  );

  app.route(
    "/admin",
    createAdminOpsRoutes({
      adminToken: ctx.adminToken,
      devices: ctx.devices,
      keepalives: ctx.keepaliveLookup,
      forgetKeepalive: (id) => ctx.keepalives.forget(id),
      allow: ctx.allow,
      spool: ctx.spool,
      identityKeys: ctx.identityKeys,
      revocation: ctx.revocation,
      maxBodyBytes: config.maxBodyBytes,
      log: ctx.log,
    }),
  );

  // The operator's web console (control/console); it acts through the admin routes above.
  app.route(
    "/console",
    createConsoleRoutes({
      adminToken: ctx.adminToken,
      admin: (req) => app.fetch(req),
      nodeAddresses: ctx.nodeAddresses,
      loginLimiter: new RateLimiter(1, 10),
      log: ctx.log,
    }),
  );
  app.get("/", (c) => c.redirect("/console/", 303));

  // The console replaced the old /status page (issue 18). Old bookmarks land on the console; the query string
  // (which once carried the admin token) is dropped, and the old cookie that held the raw token is cleared.
  app.get("/status", (c) => {
    deleteCookie(c, "pvrlink_admin", { path: "/status" });
    return c.redirect("/console/", 301);
  });

  return app as unknown as Hono;
}
