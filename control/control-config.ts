/** @module The control node's configuration: every option with its default, loaded from an optional JSON file and checked. */
import { InputError } from "../cli/command.ts";
import { defaultDataDir } from "../cli/data-dir.ts";
import { readConfigFile } from "../cli/read-config-file.ts";

export interface ControlConfig {
  /** HOST:PORT of the HTTP API; port 0 picks a free port. */
  http: string;
  /** HOST:PORT of the UDP keepalive/trigger endpoint; 3478 is the STUN port (RFC 8489 18.2). */
  udp: string;
  /** Database and spool directory. */
  data: string;
  /** Admin bearer token; when null one is generated at first start and kept 0600 in DATA/admin-token. */
  adminToken: string | null;
  /** Addresses printed in credentials for devices to reach the node (defaults to the bound addresses). */
  publicHttp: string | null;
  publicUdp: string | null;
  /** Keepalive interval assumed when a device announces none (NAT UDP mappings expire after 30-120 s). */
  keepaliveIntervalSec: number;
  /** A device is connected while its last keepalive is fresher than this many intervals. */
  connectedIntervals: number;
  /** Confirm "connected" with a TCP connect to the registered address:port before the status trigger. */
  tcpProbe: boolean;
  tcpProbeTimeoutMs: number;
  /** How long the node retries a status/verdict trigger before treating the callee as not connected. */
  triggerDeadlineMs: number;
  /**
   * Every permission_denied answer leaves the node this long after its QUERY arrived, whether the name exists,
   * its policy, and whether the callee is online: timing tells an unpermitted caller nothing. 0 disables it.
   */
  refusalDeadlineMs: number;
  /** Permitted duration of a new session (seed B FIG. 4A: 60 minutes). */
  sessionDurationSec: number;
  /** How long the one-time password stays valid for the first connection. */
  connectWindowSec: number;
  /** Seconds each granted extension adds. */
  extensionSec: number;
  /** Extension policy: at most this many extensions... */
  maxExtensions: number;
  /** ...and never a lease longer than this in total. */
  maxTotalSec: number;
  /** Per-device token bucket: sustained requests per second and burst size. */
  rateLimitPerSec: number;
  rateLimitBurst: number;
  /** Per-source-IP UDP token bucket before any parsing or crypto (control/udp); 0 disables it (benchmarks). */
  udpRateLimitPerSec: number;
  udpRateLimitBurst: number;
  /** Largest JSON request body. */
  maxBodyBytes: number;
  /** Largest allow-list or group, in entries. */
  maxListEntries: number;
  enrollmentTokenTtlSec: number;
  /** Relay and store-and-forward (control/relay): size threshold, per-device quota, expiry of stored data. */
  relayThresholdBytes: number;
  relayQuotaBytes: number;
  relayTtlSec: number;
  /** Node-wide cap on the declared bytes of all live transfers (issue 21 item 2). */
  spoolCapBytes: number;
  /** Free bytes the spool leaves on its filesystem for the database; a transfer that would eat into it is 507. */
  spoolReserveBytes: number;
  /** Spool directory; null means DATA/spool. Another filesystem keeps the database's space apart from the spool's. */
  spoolDir: string | null;
  /**
   * Where the spool keeps transfers' bytes: null, the spool directory; `s3://BUCKET/PREFIX`, S3-compatible
   * object storage that every HTTP node of a cluster reads and writes (docs/operations.md). The index is in the
   * store either way.
   */
  spool: string | null;
  /** The S3 endpoint (MinIO, Ceph RGW: their URL); null: AWS, or the S3_ENDPOINT / AWS_ENDPOINT environment. */
  s3Endpoint: string | null;
  /** null: S3_REGION / AWS_REGION from the environment, else us-east-1. */
  s3Region: string | null;
  /** null: S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID and the matching secret from the environment (Bun's S3 client). */
  s3AccessKeyId: string | null;
  s3SecretAccessKey: string | null;
  /** Bytes an S3 spool buffers per part before storing and acknowledging it: memory per running upload. */
  spoolPartBytes: number;
  /**
   * Accept registrations of loopback, private, link-local and other non-public addresses (and TCP-probe them).
   * Off by default, so a device cannot make the node probe its own network (issue 21 item 9); a LAN-only or
   * test deployment turns it on.
   */
  allowPrivateAddresses: boolean;
  /** An operator's PEM certificate and key (CA-issued); null: a self-signed pair in DATA, pinned by recorders. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** Serve plain HTTP: only behind a TLS-terminating reverse proxy (docs/operations.md). */
  insecureHttp: boolean;
  /**
   * The shared store: null means the embedded sqlite file DATA/control.db; a postgres:// URL puts devices,
   * sessions and accounting in PostgreSQL, so several nodes can serve one deployment (docs/architecture.md).
   */
  store: string | null;
  /**
   * What this process serves (issue 16 item 2): "all" (the embedded node), "http" (the device API, stateless
   * behind any load balancer) or "udp" (keepalives and triggers; holds the NAT mappings in memory). The split
   * roles need a shared `store` and `nats`.
   */
  role: ControlRole;
  /** NATS servers ("host:port", comma-separated) the split roles meet on; null for role all. */
  nats: string | null;
  /** A UDP node's id on the bus and in device_owner; null draws a fresh one at each start. */
  nodeId: string | null;
  /**
   * DNS server ("IP" or "IP:PORT") for callees registered by host name (seed A variation 3); null: the system
   * resolver (getaddrinfo).
   */
  dnsServer: string | null;
}

export const CONTROL_ROLES = ["all", "http", "udp"] as const;
export type ControlRole = (typeof CONTROL_ROLES)[number];

export const DEFAULT_CONFIG: Readonly<ControlConfig> = Object.freeze({
  http: "127.0.0.1:8650",
  udp: "127.0.0.1:3478",
  data: defaultDataDir(),
  adminToken: null,
  publicHttp: null,
  publicUdp: null,
  keepaliveIntervalSec: 25,
  connectedIntervals: 3,
  tcpProbe: false,
  tcpProbeTimeoutMs: 1000,
  triggerDeadlineMs: 3000,
  refusalDeadlineMs: 3000,
  sessionDurationSec: 3600,
  connectWindowSec: 120,
  extensionSec: 1800,
  maxExtensions: 4,
  maxTotalSec: 4 * 3600,
  rateLimitPerSec: 20,
  rateLimitBurst: 40,
  udpRateLimitPerSec: 50,
  udpRateLimitBurst: 100,
  maxBodyBytes: 64 * 1024,
  maxListEntries: 1000,
  enrollmentTokenTtlSec: 24 * 3600,
  relayThresholdBytes: 2 * 1024 ** 3,
  relayQuotaBytes: 8 * 1024 ** 3,
  relayTtlSec: 7 * 24 * 3600,
  spoolCapBytes: 64 * 1024 ** 3,
  spoolReserveBytes: 256 * 1024 ** 2,
  spoolDir: null,
  spool: null,
  s3Endpoint: null,
  s3Region: null,
  s3AccessKeyId: null,
  s3SecretAccessKey: null,
  spoolPartBytes: 8 * 1024 ** 2,
  allowPrivateAddresses: false,
  tlsCert: null,
  tlsKey: null,
  insecureHttp: false,
  store: null,
  role: "all",
  nats: null,
  nodeId: null,
  dnsServer: null,
});

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Splits HOST:PORT (IPv6 in brackets), checking the port range. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = HOST_PORT.exec(s);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535) throw new InputError(`${what} '${s}' is not HOST:PORT`, "ERR_CONFIG");
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

const NULLABLE_KEYS = new Set([
  "adminToken",
  "publicHttp",
  "publicUdp",
  "tlsCert",
  "tlsKey",
  "spoolDir",
  "spool",
  "s3Endpoint",
  "s3Region",
  "s3AccessKeyId",
  "s3SecretAccessKey",
  "store",
  "nats",
  "nodeId",
  "dnsServer",
]);

/** Checks an untrusted object against ControlConfig's keys and types; unknown keys are errors, not ignored. */
export function checkConfig(raw: unknown, where: string): Partial<ControlConfig> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError(`${where}: configuration must be a JSON object`, "ERR_CONFIG");
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in DEFAULT_CONFIG)) throw new InputError(`${where}: unknown option '${k}'`, "ERR_CONFIG");
    const def = DEFAULT_CONFIG[k as keyof ControlConfig];
    const nullable = NULLABLE_KEYS.has(k);
    const ok =
      (nullable && (v === null || typeof v === "string")) ||
      (typeof def === "number" && typeof v === "number" && Number.isFinite(v) && v >= 0) ||
      (typeof def === "string" && typeof v === "string") ||
      (typeof def === "boolean" && typeof v === "boolean");
    if (!ok) throw new InputError(`${where}: option '${k}' has the wrong type`, "ERR_CONFIG");
    out[k] = v;
  }
  const cfg = out as Partial<ControlConfig>;
  if (cfg.adminToken != null && cfg.adminToken.length < 16) {
    throw new InputError(`${where}: adminToken must be at least 16 characters`, "ERR_CONFIG");
  }
  return cfg;
}

/** Defaults, then the file (if any), then command-line overrides; checks the addresses. */
export function loadConfig(file: string | undefined, overrides: Partial<ControlConfig>): ControlConfig {
  const fromFile = file === undefined ? {} : checkConfig(readConfigFile(file, { code: "ERR_CONFIG" }), file);
  const cfg: ControlConfig = { ...DEFAULT_CONFIG, ...fromFile, ...overrides };
  parseHostPort(cfg.http, "--http");
  parseHostPort(cfg.udp, "--udp");
  checkRole(cfg);
  checkSpool(cfg);
  return cfg;
}

/** An S3 spool names a bucket; its parts are at least 64 KiB (smaller parts only multiply requests). */
function checkSpool(cfg: ControlConfig): void {
  if (cfg.spool !== null && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(cfg.spool))
    throw new InputError(`--spool '${cfg.spool}' is not s3://BUCKET/PREFIX`, "ERR_CONFIG");
  if (!Number.isSafeInteger(cfg.spoolPartBytes) || cfg.spoolPartBytes < 64 * 1024)
    throw new InputError("spoolPartBytes must be an integer of at least 65536", "ERR_CONFIG");
}

/** A split role needs what makes it part of a cluster: a shared PostgreSQL store and a NATS bus. */
function checkRole(cfg: ControlConfig): void {
  if (!(CONTROL_ROLES as readonly string[]).includes(cfg.role))
    throw new InputError(`--role '${cfg.role}' is not one of ${CONTROL_ROLES.join(", ")}`, "ERR_CONFIG");
  if (cfg.nodeId !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(cfg.nodeId))
    throw new InputError(`nodeId '${cfg.nodeId}' must be 1-64 of A-Z a-z 0-9 _ -`, "ERR_CONFIG");
  if (cfg.role === "all") return;
  if (cfg.store === null || !/^postgres(ql)?:\/\//i.test(cfg.store))
    throw new InputError(`--role ${cfg.role} needs a shared --store postgres://...`, "ERR_CONFIG");
  if (cfg.nats === null) throw new InputError(`--role ${cfg.role} needs --nats HOST:PORT`, "ERR_CONFIG");
}
