/** @module `pvrlink control`: serve the control node, enroll devices, mint enrollment tokens, show the admin token. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, EXIT_OK, InputError, UsageError } from "../cli/command.ts";
import { DaemonLifetime } from "../cli/daemon-lifetime.ts";
import { detach, stopDaemon } from "../cli/detach.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { subcommandHelp } from "../cli/subcommand-help.ts";
import type { DeviceCredential, EnrollmentTokenResponse, NodeAddresses } from "../protocol/api-types.ts";
import { resolveTarget } from "./admin-target.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import { type ControlConfig, DEFAULT_CONFIG, parseHostPort } from "./control-config.ts";
import { configFrom, TLS_FLAGS } from "./control-config-flags.ts";
import { formatHostPort, nodeAddressesOf, startControlNode, storeSpec } from "./control-node.ts";
import { ApiError } from "./errors/api-error.ts";
import {
  ADMIN_CLI_DESCRIPTIONS,
  ADMIN_CLI_USAGE,
  devicesCommand,
  sessionsCommand,
  spoolCommand,
  tokenCreateCommand,
} from "./ops/admin-cli.ts";
import { isLogLevel, JsonLogger } from "./ops/json-logger.ts";
import { BackupError, backupNode, restoreNode } from "./ops/node-backup.ts";
import { checkUrl, publicAddresses } from "./public-addresses.ts";
import { startRoleNode } from "./role-node.ts";
import { LOCK_FILE, LOG_FILE, NODE_FILE, type ServingNode, servingNode } from "./serving-node.ts";
import { DeviceStore } from "./store/device-store.ts";
import { openControlStore } from "./store/open-control-store.ts";
import { loadOrCreateNodeCertificate } from "./tls/node-certificate.ts";

const HELP = `Usage:
  pvrlink control serve [--detach] [--allow-private-addresses] [--public-url URL] [--config FILE] [--data DIR]
                        [--http HOST:PORT] [--udp HOST:PORT] [--tls-cert FILE --tls-key FILE | --insecure-http]
                        [--store URL] [--spool s3://BUCKET/PREFIX] [--role all|http|udp] [--nats HOST:PORT]
  pvrlink control stop [--data DIR]
  pvrlink control enroll NAME [--public-url URL] [--config FILE] [--data DIR] [--store URL]
  pvrlink control token [--ttl SECONDS] [--config FILE] [--data DIR] [--store URL]
  pvrlink control admin-token [--config FILE] [--data DIR]
  pvrlink control backup DIR [--config FILE] [--data DIR]
  pvrlink control restore DIR [--config FILE] [--data DIR]
${ADMIN_CLI_USAGE}

serve        Runs the control node over HTTPS. The first line on stdout is {"http","udp","url","publicUdp","pin"}:
             the bound addresses (port 0 picks a free port), the public URL and UDP endpoint recorders are
             told, and the certificate pin they check; JSON log lines go to stderr (level from
             $PVRLINK_LOG_LEVEL); the web console is at https://HOST:PORT/console/. At first start it makes a
             self-signed certificate in DATA (tls-cert.pem, tls-key.pem 0600); --tls-cert/--tls-key serve an
             operator's CA-issued certificate instead. SIGTERM/SIGINT stop it. --detach runs it in the
             background (log in DATA/control.log) and returns once it serves. One node per data directory
             (DATA/control.pid).
stop         Stops the node that serves DATA.
enroll       Enrolls device NAME; prints its credential {"id","name","secret","node"} once: save it to a file
             (\`pvrlink control enroll grandma > grandma.json\`) and hand it to the recorder's owner. The
             credential names the node serving DATA (its public URL and pin), or --public-url.
token        Creates a one-time enrollment token a device redeems at POST /v1/enroll.
backup DIR   Writes a consistent snapshot of DATA (database via VACUUM INTO, spool, admin token, TLS files)
             into DIR while the node runs; with an S3 spool (the node's --config) also its part objects.
restore DIR  Puts a backup into a fresh --data directory (refused if it holds a database) and its S3 part
             objects into the configured bucket, checking every file's SHA-256 and the database's
             integrity first.
${ADMIN_CLI_DESCRIPTIONS}
admin-token  Prints the admin bearer token (generated 0600 in DIR/admin-token at first use).
Run 'pvrlink control SUBCOMMAND --help' for one subcommand.

Options (flags win over PVRLINK_* variables, which win over the --config file):
  --config FILE      JSON configuration (default: none, built-in defaults; keys: pvrlink help protocol)
  --data DIR         database and spool directory (default: $PVRLINK_DATA or ~/.local/share/pvrlink)
  --http HOST:PORT   HTTP API address (default: $PVRLINK_HTTP or ${DEFAULT_CONFIG.http})
  --udp HOST:PORT    UDP keepalive/trigger address (default: $PVRLINK_UDP or ${DEFAULT_CONFIG.udp})
  --public-url URL   the URL recorders reach the node at (default: the config's publicHttp, else the
                     bound address; a wildcard address is replaced by this machine's first non-loopback
                     IPv4 address)
  --role ROLE        all (default: the whole node in one process), http (the device API, stateless) or udp
                     (keepalives and triggers); http and udp need --store postgres://... and --nats (serve)
  --nats HOST:PORT   the NATS servers cluster roles meet on, comma-separated (serve)
  --store URL        the shared store: postgres://USER@HOST:PORT/DB for a cluster of nodes (default: the
                     embedded sqlite file DATA/control.db)
  --spool URL        s3://BUCKET/PREFIX keeps the spool's bytes on S3-compatible storage, for a cluster's HTTP
                     nodes (serve; endpoint, region and keys: the config's s3Endpoint, s3Region,
                     s3AccessKeyId, s3SecretAccessKey, or S3_*/AWS_* variables; default: DATA/spool)
  --detach           serve in the background (serve)
  --allow-private-addresses
                     let recorders register loopback, private and link-local addresses, and let the node
                     probe them (serve): for a node on one machine or one LAN; off by default, since a
                     device could otherwise make the node probe this host's own services
  --ttl SECONDS      enrollment token lifetime (default: ${DEFAULT_CONFIG.enrollmentTokenTtlSec})
  --tls-cert FILE, --tls-key FILE   an operator's PEM certificate and key (recorders check it against the system CAs)
  --insecure-http    plain HTTP, only behind a TLS-terminating reverse proxy (pvrlink help security)
enroll and token name the serving node's URL and pin; without a running node, give them the same --tls-cert/
--tls-key or --insecure-http as serve, or keep tlsCert, tlsKey and insecureHttp in the --config file.`;

/** What the commands other than serve say on stderr, for a person at a terminal. */
function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} control: ${msg}\n`);
}

/** The serving node's log: JSON lines on stderr (control/ops/json-logger.ts); PVRLINK_LOG_LEVEL sets the threshold. */
function nodeLogger(): JsonLogger {
  const level = process.env.PVRLINK_LOG_LEVEL ?? "info";
  if (!isLogLevel(level))
    throw new UsageError(`PVRLINK_LOG_LEVEL '${level}' is not debug, info, warn or error`);
  return new JsonLogger({ level });
}

const SERVE_FLAGS = {
  config: { type: "string" },
  data: { type: "string" },
  http: { type: "string" },
  udp: { type: "string" },
  "public-url": { type: "string" },
  store: { type: "string" },
  spool: { type: "string" },
  role: { type: "string" },
  nats: { type: "string" },
  detach: { type: "boolean" },
  "allow-private-addresses": { type: "boolean" },
  ...TLS_FLAGS,
} as const;

/** Device names the log remembers (ids past this start the memory over: a log line is no reason to grow). */
const MAX_LOGGED_NAMES = 10_000;

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, SERVE_FLAGS);
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${positionals[0]}'`);
  if (values["public-url"] !== undefined) checkUrl(values["public-url"], "--public-url");
  const config = configFrom(values);
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  if (config.role !== "all") {
    if (values.detach)
      throw new UsageError("--detach serves role all only; run cluster roles under a supervisor");
    return serveRole(config);
  }
  if (values.detach) {
    const { ready } = await detach({
      args: ["control", "serve", ...args.filter((a) => a !== "--detach")],
      logFile: join(config.data, LOG_FILE),
      lockFile: join(config.data, LOCK_FILE),
      what: "the control node",
      ready: (pid) => {
        const n = servingNode(config.data);
        return n?.pid === pid ? n : undefined;
      },
    });
    const { pid: _, ...shown } = ready;
    process.stdout.write(`${JSON.stringify(shown)}\n`);
    log(
      `serving in the background (pid ${ready.pid}), recorders reach it at ${ready.url}; log ${join(config.data, LOG_FILE)}`,
    );
    return EXIT_OK;
  }
  if (config.insecureHttp && (config.tlsCert !== null || config.tlsKey !== null))
    throw new UsageError("--insecure-http serves no certificate: drop --tls-cert/--tls-key");
  using life = DaemonLifetime.begin(join(config.data, LOCK_FILE), "the control node", "pvrlink control stop");
  // Device names are resolved through the node's own store once it is open (the logger is needed first).
  let names: (id: string) => string | null = () => null;
  const nodeLog = nodeLogger().withDeviceNames((id) => names(id)).line;
  const node = await startControlNode(config, nodeLog);
  // The store answers asynchronously and a log line is written now: a name is shown once it has been read.
  const known = new Map<string, string | null>();
  names = (id) => {
    const hit = known.get(id);
    if (hit !== undefined || known.has(id)) return hit ?? null;
    if (known.size >= MAX_LOGGED_NAMES) known.clear();
    known.set(id, null);
    void node.ctx.devices.byId(id).then(
      (d) => known.set(id, d?.name ?? null),
      () => known.delete(id),
    );
    return null;
  };
  const bound = { http: formatHostPort(node.http), udp: formatHostPort(node.udp) };
  const pub = publicAddresses(node, config, {
    flag: values["public-url"],
    scheme: node.tls === null ? "http" : "https",
  });
  // The node hands these to devices enrolling by token (nodeAddresses reads the config at each call).
  config.publicHttp = pub.url;
  config.publicUdp = pub.publicUdp;
  const { pin } = nodeAddressesOf(pub.url, pub.publicUdp, node.tls);
  const shown = { ...bound, ...pub, ...(pin === undefined ? {} : { pin }) };
  const serving: ServingNode = { pid: process.pid, ...shown };
  writeFileSync(join(config.data, NODE_FILE), `${JSON.stringify(serving)}\n`, { mode: 0o644 });
  process.stdout.write(`${JSON.stringify(shown)}\n`);
  nodeLog(
    `serving ${node.tls === null ? "plain http (--insecure-http)" : "https"} ${bound.http} udp ${bound.udp} data ${config.data}`,
  );
  nodeLog(`console at ${pub.url.replace(/\/$/, "")}/console/ (log in with 'pvrlink control admin-token')`);
  nodeLog(
    `recorders reach this node at ${pub.url} (udp ${pub.publicUdp}); if they cannot, restart with --public-url`,
  );
  const signal = await life.stopped;
  nodeLog(`${signal}: shutting down`);
  await node.close();
  rmSync(join(config.data, NODE_FILE), { force: true });
  nodeLog("stopped");
  return EXIT_OK;
}

/**
 * A cluster role (issue 16 item 2). Its first stdout line is {"role","http","udp","nodeId"} (the role's own
 * address, the other null); it keeps no pid file, since several run on one data directory's machine.
 */
async function serveRole(config: ControlConfig): Promise<number> {
  const node = await startRoleNode(config, log);
  const shown = {
    role: node.role,
    http: node.http && formatHostPort(node.http),
    udp: node.udp && formatHostPort(node.udp),
    nodeId: node.nodeId,
  };
  process.stdout.write(`${JSON.stringify(shown)}\n`);
  log(`serving role ${node.role}${node.nodeId ? ` as ${node.nodeId}` : ""}`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log(`${signal}: shutting down`);
  await node.close();
  log("stopped");
  return EXIT_OK;
}

async function stop(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: "string" }, data: { type: "string" } });
  if (positionals.length > 0) throw new UsageError("stop takes no arguments");
  const config = configFrom(values);
  const stopped = await stopDaemon(join(config.data, LOCK_FILE), "the control node");
  console.log(
    stopped ? `stopped the control node on ${config.data}` : `no control node runs on ${config.data}`,
  );
  return EXIT_OK;
}

async function withStore<T>(config: ControlConfig, f: (store: DeviceStore) => Promise<T>): Promise<T> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const db = await openControlStore(storeSpec(config));
  try {
    return await f(new DeviceStore(db));
  } catch (err) {
    if (err instanceof ApiError) throw new InputError(err.message, err.code);
    throw err;
  } finally {
    await db.close();
  }
}

/** What credentials and tokens say about the node, read from DATA without a running node. */
async function offlineAddresses(config: ControlConfig): Promise<NodeAddresses> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const tls = config.insecureHttp
    ? null
    : await loadOrCreateNodeCertificate(config.data, { cert: config.tlsCert, key: config.tlsKey });
  return nodeAddressesOf(config.publicHttp ?? config.http, config.publicUdp ?? config.udp, tls);
}

/**
 * What a credential names: the node serving DATA (its public URL and pin, from DATA/node.json), else what the
 * configuration and the certificate in DATA say, or --public-url with the pin of the certificate in DATA.
 */
async function credentialAddresses(config: ControlConfig, flag: string | undefined): Promise<NodeAddresses> {
  const serving = servingNode(config.data);
  if (flag === undefined && serving !== undefined) {
    const { url, publicUdp, pin } = serving;
    return { http: url, udp: publicUdp, ...(pin === undefined ? {} : { pin }) };
  }
  const offline = await offlineAddresses(config);
  const bound = { http: parseHostPort(config.http, "--http"), udp: parseHostPort(config.udp, "--udp") };
  const scheme = offline.http.startsWith("https:") ? "https" : "http";
  const pub = publicAddresses(bound, config, { flag, scheme });
  if (serving === undefined && flag === undefined)
    log(
      `no node serves ${config.data}: the credential names ${pub.url} from the configuration; start the node first or pass --public-url`,
    );
  return { ...offline, http: pub.url, udp: pub.publicUdp };
}

async function enroll(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
    "public-url": { type: "string" },
    ...TLS_FLAGS,
  });
  if (positionals.length !== 1) throw new UsageError("enroll takes exactly one NAME");
  const config = configFrom(values);
  const node = await credentialAddresses(config, values["public-url"]);
  const cred = await withStore(config, (s) => s.enroll(positionals[0]!));
  const out: DeviceCredential = { ...cred, node };
  console.log(JSON.stringify(out));
  return EXIT_OK;
}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    ...TLS_FLAGS,
    store: { type: "string" },
    ttl: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError("token takes no arguments");
  const config = configFrom(values);
  const ttl = values.ttl === undefined ? config.enrollmentTokenTtlSec : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new UsageError(`--ttl '${values.ttl}' is not a positive integer`);
  const out: EnrollmentTokenResponse = {
    ...(await withStore(config, (s) => s.createEnrollmentToken(ttl))),
    node: await credentialAddresses(config, undefined),
  };
  console.log(JSON.stringify(out));
  return EXIT_OK;
}

function adminToken(args: string[]): number {
  const { values, positionals } = parseFlags(args, { config: { type: "string" }, data: { type: "string" } });
  if (positionals.length > 0) throw new UsageError("admin-token takes no arguments");
  const config = configFrom(values);
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  console.log(loadOrCreateAdminToken(config.data, config.adminToken));
  return EXIT_OK;
}

/** backup DIR / restore DIR: local operations on the data directory (the node may run during a backup). */
async function backupOrRestore(which: "backup" | "restore", args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: "string" }, data: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError(`${which} takes exactly one DIR`);
  const config = configFrom(values);
  try {
    const spoolDir = config.spoolDir ?? undefined;
    const s3 =
      config.spool === null
        ? null
        : {
            url: config.spool,
            endpoint: config.s3Endpoint,
            region: config.s3Region,
            accessKeyId: config.s3AccessKeyId,
            secretAccessKey: config.s3SecretAccessKey,
          };
    const m =
      which === "backup"
        ? await backupNode(config.data, positionals[0]!, { spoolDir, s3 })
        : await restoreNode(positionals[0]!, config.data, { spoolDir, s3 });
    const bytes = m.files.reduce((n, f) => n + f.bytes, 0);
    console.log(
      JSON.stringify({
        [which === "backup" ? "wrote" : "restored"]: positionals[0],
        files: m.files.length,
        bytes,
      }),
    );
  } catch (err) {
    if (err instanceof BackupError) throw new InputError(err.message, err.code);
    throw err;
  }
  return EXIT_OK;
}

export const command: Command = {
  summary:
    "run and administer the control node (serve, stop, enroll, token, devices, sessions, spool, backup)",
  help: HELP,
  helpFor: (args) => subcommandHelp(HELP, "control", args[0]),
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "serve":
        return serve(rest);
      case "stop":
        return stop(rest);
      case "enroll":
        return enroll(rest);
      case "token":
        return rest[0] === "create" ? tokenCreateCommand(rest.slice(1), resolveTarget) : token(rest);
      case "devices":
        return devicesCommand(rest, resolveTarget);
      case "sessions":
        return sessionsCommand(rest, resolveTarget);
      case "spool":
        return spoolCommand(rest, resolveTarget);
      case "backup":
      case "restore":
        return backupOrRestore(sub, rest);
      case "admin-token":
        return adminToken(rest);
      default:
        throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`);
    }
  },
};
