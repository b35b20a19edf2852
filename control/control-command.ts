/** @module `pvrlink control`: serve the control node, enroll devices, mint enrollment tokens, show the admin token. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Command, EXIT_OK, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import type { DeviceCredential, EnrollmentTokenResponse, NodeAddresses } from "../protocol/api-types.ts";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import { type ControlConfig, DEFAULT_CONFIG, loadConfig } from "./control-config.ts";
import { DATABASE_FILE, formatHostPort, nodeAddressesOf, startControlNode } from "./control-node.ts";
import { ApiError } from "./errors/api-error.ts";
import { openControlDatabase } from "./store/control-database.ts";
import { DeviceStore } from "./store/device-store.ts";
import { loadOrCreateNodeCertificate } from "./tls/node-certificate.ts";

const HELP = `Usage:
  pvrlink control serve [--config FILE] [--data DIR] [--http HOST:PORT] [--udp HOST:PORT]
                        [--tls-cert FILE --tls-key FILE | --insecure-http]
  pvrlink control enroll NAME [--config FILE] [--data DIR]
  pvrlink control token [--ttl SECONDS] [--config FILE] [--data DIR]
  pvrlink control admin-token [--config FILE] [--data DIR]

serve        Runs the control node over HTTPS. The first line on stdout is
             {"http":"HOST:PORT","udp":"HOST:PORT","url":"https://...","pin":"sha256/..."} with the bound
             addresses (port 0 picks a free port) and the certificate pin recorders check; logs go to stderr.
             SIGTERM/SIGINT stop it. At first start it makes a self-signed certificate in DIR (tls-cert.pem,
             tls-key.pem 0600); --tls-cert/--tls-key serve an operator's CA-issued certificate instead.
enroll       Enrolls device NAME directly in the database; prints {"id","name","secret","node"} once.
token        Creates a one-time enrollment token a device redeems at POST /v1/enroll.
admin-token  Prints the admin bearer token (generated 0600 in DIR/admin-token at first use).

Options (defaults; every other option lives in the JSON --config file, see docs/protocol.md):
  --config FILE      JSON configuration (default: none, built-in defaults)
  --data DIR         database and spool directory (default: ${DEFAULT_CONFIG.data})
  --http HOST:PORT   HTTP API address (default: ${DEFAULT_CONFIG.http})
  --udp HOST:PORT    UDP keepalive/trigger address (default: ${DEFAULT_CONFIG.udp})
  --ttl SECONDS      enrollment token lifetime (default: ${DEFAULT_CONFIG.enrollmentTokenTtlSec})
  --tls-cert FILE, --tls-key FILE   an operator's PEM certificate and key (recorders check it against the system CAs)
  --insecure-http    plain HTTP, only behind a TLS-terminating reverse proxy (docs/security.md)
enroll and token print the node's URL and pin: give them the same --tls-cert/--tls-key or --insecure-http as
serve, or keep tlsCert, tlsKey and insecureHttp in the --config file all three read.`;

/** How the node serves HTTP; enroll and token take them too, so the credential they print says the same. */
const TLS_FLAGS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "insecure-http": { type: "boolean" },
} as const;

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} control: ${msg}\n`);
}

function configFrom(values: {
  config?: string;
  data?: string;
  http?: string;
  udp?: string;
  "tls-cert"?: string;
  "tls-key"?: string;
  "insecure-http"?: boolean;
}): ControlConfig {
  const overrides: Partial<ControlConfig> = {};
  if (values["tls-cert"] !== undefined) overrides.tlsCert = values["tls-cert"];
  if (values["tls-key"] !== undefined) overrides.tlsKey = values["tls-key"];
  if (values["insecure-http"] === true) overrides.insecureHttp = true;
  if (values.data !== undefined) overrides.data = values.data;
  if (values.http !== undefined) overrides.http = values.http;
  if (values.udp !== undefined) overrides.udp = values.udp;
  return loadConfig(values.config, overrides);
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    http: { type: "string" },
    udp: { type: "string" },
    ...TLS_FLAGS,
  });
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${positionals[0]}'`);
  const config = configFrom(values);
  if (config.insecureHttp && (config.tlsCert !== null || config.tlsKey !== null))
    throw new UsageError("--insecure-http serves no certificate: drop --tls-cert/--tls-key");
  const node = await startControlNode(config, log);
  const http = formatHostPort(node.http);
  const udp = formatHostPort(node.udp);
  const { http: url, pin } = nodeAddressesOf(http, udp, node.tls);
  process.stdout.write(`${JSON.stringify({ http, udp, url, ...(pin === undefined ? {} : { pin }) })}\n`);
  log(
    `serving ${node.tls === null ? "plain http (--insecure-http)" : "https"} ${http} udp ${udp} data ${config.data}`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log(`${signal}: shutting down`);
  await node.close();
  log("stopped");
  return EXIT_OK;
}

function withStore<T>(config: ControlConfig, f: (store: DeviceStore) => T): T {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const db = openControlDatabase(join(config.data, DATABASE_FILE));
  try {
    return f(new DeviceStore(db));
  } catch (err) {
    if (err instanceof ApiError) throw new InputError(err.message, err.code);
    throw err;
  } finally {
    db.close();
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

async function enroll(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    ...TLS_FLAGS,
  });
  if (positionals.length !== 1) throw new UsageError("enroll takes exactly one NAME");
  const config = configFrom(values);
  const cred = withStore(config, (s) => s.enroll(positionals[0]!));
  const out: DeviceCredential = { ...cred, node: await offlineAddresses(config) };
  console.log(JSON.stringify(out));
  return EXIT_OK;
}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    ...TLS_FLAGS,
    ttl: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError("token takes no arguments");
  const config = configFrom(values);
  const ttl = values.ttl === undefined ? config.enrollmentTokenTtlSec : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new UsageError(`--ttl '${values.ttl}' is not a positive integer`);
  const out: EnrollmentTokenResponse = {
    ...withStore(config, (s) => s.createEnrollmentToken(ttl)),
    node: await offlineAddresses(config),
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

export const command: Command = {
  summary: "run and administer the control node (serve, enroll, token, admin-token)",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "serve":
        return serve(rest);
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
