/** @module `pvrlink control`: serve the control node, enroll devices, mint enrollment tokens, show the admin token. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { type Command, EXIT_OK, InputError, UsageError } from "../cli/command.ts";
import { DaemonLifetime } from "../cli/daemon-lifetime.ts";
import { detach, stopDaemon } from "../cli/detach.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { livePid } from "../cli/pid-lock.ts";
import { subcommandHelp } from "../cli/subcommand-help.ts";
import type { DeviceCredential } from "../protocol/api-types.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import { type ControlConfig, DEFAULT_CONFIG, loadConfig, parseHostPort } from "./control-config.ts";
import { formatHostPort, startControlNode, storeSpec } from "./control-node.ts";
import { ApiError } from "./errors/api-error.ts";
import { startRoleNode } from "./role-node.ts";
import { DeviceStore } from "./store/device-store.ts";
import { openControlStore } from "./store/open-control-store.ts";

const HELP = `Usage:
  pvrlink control serve [--detach] [--allow-private-addresses] [--public-url URL] [--config FILE] [--data DIR] [--http HOST:PORT] [--udp HOST:PORT] [--store URL] [--role all|http|udp] [--nats HOST:PORT]
  pvrlink control stop [--data DIR]
  pvrlink control enroll NAME [--public-url URL] [--config FILE] [--data DIR] [--store URL]
  pvrlink control token [--ttl SECONDS] [--config FILE] [--data DIR] [--store URL]
  pvrlink control admin-token [--config FILE] [--data DIR]

serve        Runs the control node. The first line on stdout is {"http","udp","url","publicUdp"}: the bound
             addresses (port 0 picks a free port) and the public URL and UDP endpoint recorders are told;
             logs go to stderr. SIGTERM/SIGINT stop it. --detach runs it in the background (log in
             DATA/control.log) and returns once it serves. One node per data directory (DATA/control.pid).
stop         Stops the node that serves DATA.
enroll       Enrolls device NAME; prints its credential {"id","name","secret","node"} once: save it to a file
             (\`pvrlink control enroll grandma > grandma.json\`) and hand it to the recorder's owner. The
             credential names the node serving DATA (its public URL), or --public-url.
token        Creates a one-time enrollment token a device redeems at POST /v1/enroll.
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
  --detach           serve in the background (serve)
  --allow-private-addresses
                     let recorders register loopback, private and link-local addresses, and let the node
                     probe them (serve): for a node on one machine or one LAN; off by default, since a
                     device could otherwise make the node probe this host's own services
  --ttl SECONDS      enrollment token lifetime (default: ${DEFAULT_CONFIG.enrollmentTokenTtlSec})`;

/** The file a serving node writes into its data directory so enroll and stop find it. */
const NODE_FILE = "node.json";
const LOCK_FILE = "control.pid";
const LOG_FILE = "control.log";

interface ServingNode {
  pid: number;
  http: string;
  udp: string;
  url: string;
  publicUdp: string;
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} control: ${msg}\n`);
}

function configFrom(values: {
  config?: string;
  data?: string;
  http?: string;
  udp?: string;
  store?: string;
  role?: string;
  nats?: string;
  "allow-private-addresses"?: boolean;
}): ControlConfig {
  const overrides: Partial<ControlConfig> = {};
  if (values.role !== undefined) overrides.role = values.role as ControlConfig["role"];
  if (values.nats !== undefined) overrides.nats = values.nats;
  if (values.store !== undefined) overrides.store = values.store;
  if (values["allow-private-addresses"]) overrides.allowPrivateAddresses = true;
  if (values.data !== undefined) overrides.data = values.data;
  const http = values.http ?? process.env.PVRLINK_HTTP;
  const udp = values.udp ?? process.env.PVRLINK_UDP;
  if (http) overrides.http = http;
  if (udp) overrides.udp = udp;
  return loadConfig(values.config, overrides);
}

const WILDCARD = new Set(["0.0.0.0", "::", "[::]", ""]);

/** This machine's first non-loopback IPv4 address: what a wildcard listener is reached at, at best a guess. */
function firstLanAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
}

function checkUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${what} '${url}' is not a URL (e.g. http://node.example.org:8650)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`${what} '${url}' is not an http(s) URL`);
  return u.href.replace(/\/$/, "");
}

/**
 * What recorders are told: --public-url, else the config's publicHttp, else the bound HTTP address with a
 * wildcard host replaced; the UDP endpoint is the config's publicUdp, else the URL's host with the UDP port.
 */
export function publicAddresses(
  bound: { http: { host: string; port: number }; udp: { host: string; port: number } },
  config: Pick<ControlConfig, "publicHttp" | "publicUdp">,
  flag: string | undefined,
): { url: string; publicUdp: string } {
  const fromConfig = config.publicHttp ?? undefined;
  const url =
    flag !== undefined
      ? checkUrl(flag, "--public-url")
      : fromConfig !== undefined
        ? checkUrl(fromConfig.includes("://") ? fromConfig : `http://${fromConfig}`, "publicHttp")
        : `http://${formatHostPort({ host: WILDCARD.has(bound.http.host) ? firstLanAddress() : bound.http.host, port: bound.http.port })}`;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  // A URL someone chose names the host recorders reach; a derived one follows what the UDP socket is bound to.
  const chosen = flag !== undefined || fromConfig !== undefined;
  const udpHost = chosen || WILDCARD.has(bound.udp.host) ? host : bound.udp.host;
  return { url, publicUdp: config.publicUdp ?? formatHostPort({ host: udpHost, port: bound.udp.port }) };
}

/** The node serving this data directory, when its process still runs. */
function servingNode(data: string): ServingNode | undefined {
  try {
    const n = JSON.parse(readFileSync(join(data, NODE_FILE), "utf8")) as ServingNode;
    return livePid(join(data, LOCK_FILE)) === n.pid ? n : undefined;
  } catch {
    return undefined;
  }
}

const SERVE_FLAGS = {
  config: { type: "string" },
  data: { type: "string" },
  http: { type: "string" },
  udp: { type: "string" },
  "public-url": { type: "string" },
  store: { type: "string" },
  role: { type: "string" },
  nats: { type: "string" },
  detach: { type: "boolean" },
  "allow-private-addresses": { type: "boolean" },
} as const;

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
  using life = DaemonLifetime.begin(join(config.data, LOCK_FILE), "the control node", "pvrlink control stop");
  const node = await startControlNode(config, log);
  const bound = { http: formatHostPort(node.http), udp: formatHostPort(node.udp) };
  const pub = publicAddresses(node, config, values["public-url"]);
  // The node hands these to devices enrolling by token (nodeAddresses reads the config at each call).
  config.publicHttp = pub.url;
  config.publicUdp = pub.publicUdp;
  const serving: ServingNode = { pid: process.pid, ...bound, ...pub };
  writeFileSync(join(config.data, NODE_FILE), `${JSON.stringify(serving)}\n`, { mode: 0o644 });
  process.stdout.write(`${JSON.stringify({ ...bound, ...pub })}\n`);
  log(`serving http ${bound.http} udp ${bound.udp} data ${config.data}`);
  log(
    `recorders reach this node at ${pub.url} (udp ${pub.publicUdp}); if they cannot, restart with --public-url`,
  );
  const signal = await life.stopped;
  log(`${signal}: shutting down`);
  await node.close();
  rmSync(join(config.data, NODE_FILE), { force: true });
  log("stopped");
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

async function enroll(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
    "public-url": { type: "string" },
  });
  if (positionals.length !== 1) throw new UsageError("enroll takes exactly one NAME");
  const config = configFrom(values);
  const serving = servingNode(config.data);
  let node: { http: string; udp: string };
  if (values["public-url"] !== undefined || serving === undefined) {
    const bound = { http: parseHostPort(config.http, "--http"), udp: parseHostPort(config.udp, "--udp") };
    const pub = publicAddresses(bound, config, values["public-url"]);
    node = { http: pub.url, udp: pub.publicUdp };
    if (serving === undefined && values["public-url"] === undefined)
      log(
        `no node serves ${config.data}: the credential names ${pub.url} from the configuration; start the node first or pass --public-url`,
      );
  } else {
    node = { http: serving.url, udp: serving.publicUdp };
  }
  const cred = await withStore(config, (s) => s.enroll(positionals[0]!));
  const out: DeviceCredential = { ...cred, node };
  console.log(JSON.stringify(out));
  return EXIT_OK;
}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
    ttl: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError("token takes no arguments");
  const config = configFrom(values);
  const ttl = values.ttl === undefined ? config.enrollmentTokenTtlSec : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new UsageError(`--ttl '${values.ttl}' is not a positive integer`);
  console.log(JSON.stringify(await withStore(config, (s) => s.createEnrollmentToken(ttl))));
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

export const command: Command = {
  summary: "run and administer the control node (serve, stop, enroll, token, admin-token)",
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
        return token(rest);
      case "admin-token":
        return adminToken(rest);
      default:
        throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`);
    }
  },
};
