/** @module `pvrlink control`: serve the control node, enroll devices, mint enrollment tokens, show the admin token. */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, EXIT_OK, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import type { DeviceCredential } from "../protocol/api-types.ts";
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from "./admin-token.ts";
import { type ControlConfig, DEFAULT_CONFIG, loadConfig } from "./control-config.ts";
import { DATABASE_FILE, formatHostPort, startControlNode } from "./control-node.ts";
import { ApiError } from "./errors/api-error.ts";
import {
  ADMIN_CLI_HELP,
  devicesCommand,
  type ResolveTarget,
  sessionsCommand,
  spoolCommand,
  tokenCreateCommand,
} from "./ops/admin-cli.ts";
import { isLogLevel, JsonLogger } from "./ops/json-logger.ts";
import { BackupError, backupNode, restoreNode } from "./ops/node-backup.ts";
import { openControlDatabase } from "./store/control-database.ts";
import { DeviceStore } from "./store/device-store.ts";

const HELP = `Usage:
  pvrlink control serve [--config FILE] [--data DIR] [--http HOST:PORT] [--udp HOST:PORT]
  pvrlink control enroll NAME [--config FILE] [--data DIR]
  pvrlink control token [--ttl SECONDS] [--config FILE] [--data DIR]
  pvrlink control admin-token [--config FILE] [--data DIR]
  pvrlink control backup DIR [--config FILE] [--data DIR]
  pvrlink control restore DIR [--config FILE] [--data DIR]
${ADMIN_CLI_HELP}

serve        Runs the control node. The first line on stdout is {"http":"HOST:PORT","udp":"HOST:PORT"}
             with the bound addresses (port 0 picks a free port); JSON log lines go to stderr (level from
             $PVRLINK_LOG_LEVEL); the web console is at http://HOST:PORT/console/. SIGTERM/SIGINT stop it.
enroll       Enrolls device NAME directly in the database; prints {"id","name","secret","node"} once.
token        Creates a one-time enrollment token a device redeems at POST /v1/enroll.
backup DIR   Writes a consistent snapshot of DATA (database via VACUUM INTO, spool, admin token, TLS files)
             into DIR while the node runs; restore DIR puts one into a fresh --data directory.
admin-token  Prints the admin bearer token (generated 0600 in DIR/admin-token at first use).

Options (defaults; every other option lives in the JSON --config file, see docs/operations.md):
  --config FILE      JSON configuration (default: none, built-in defaults)
  --data DIR         database and spool directory (default: ${DEFAULT_CONFIG.data})
  --http HOST:PORT   HTTP API address (default: ${DEFAULT_CONFIG.http})
  --udp HOST:PORT    UDP keepalive/trigger address (default: ${DEFAULT_CONFIG.udp})
  --ttl SECONDS      enrollment token lifetime (default: ${DEFAULT_CONFIG.enrollmentTokenTtlSec})`;

/** The node's log: JSON lines on stderr (control/ops/json-logger.ts); PVRLINK_LOG_LEVEL sets the threshold. */
function nodeLogger(): JsonLogger {
  const level = process.env.PVRLINK_LOG_LEVEL ?? "info";
  if (!isLogLevel(level))
    throw new UsageError(`PVRLINK_LOG_LEVEL '${level}' is not debug, info, warn or error`);
  return new JsonLogger({ level });
}

function configFrom(values: { config?: string; data?: string; http?: string; udp?: string }): ControlConfig {
  const overrides: Partial<ControlConfig> = {};
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
  });
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${positionals[0]}'`);
  const config = configFrom(values);
  // Device names are resolved through the node's own store once it is open (the logger is needed first).
  let names: (id: string) => string | null = () => null;
  const logger = nodeLogger().withDeviceNames((id) => names(id));
  const log = logger.line;
  const node = await startControlNode(config, log);
  names = (id) => node.ctx.devices.byId(id)?.name ?? null;
  process.stdout.write(
    `${JSON.stringify({ http: formatHostPort(node.http), udp: formatHostPort(node.udp) })}\n`,
  );
  log(`serving http ${formatHostPort(node.http)} udp ${formatHostPort(node.udp)} data ${config.data}`);
  log(`console at http://${formatHostPort(node.http)}/console/ (log in with 'pvrlink control admin-token')`);
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

function enroll(args: string[]): number {
  const { values, positionals } = parseFlags(args, { config: { type: "string" }, data: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError("enroll takes exactly one NAME");
  const config = configFrom(values);
  const cred = withStore(config, (s) => s.enroll(positionals[0]!));
  const out: DeviceCredential = {
    ...cred,
    node: { http: config.publicHttp ?? config.http, udp: config.publicUdp ?? config.udp },
  };
  console.log(JSON.stringify(out));
  return EXIT_OK;
}

function token(args: string[]): number {
  const { values, positionals } = parseFlags(args, {
    config: { type: "string" },
    data: { type: "string" },
    ttl: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError("token takes no arguments");
  const config = configFrom(values);
  const ttl = values.ttl === undefined ? config.enrollmentTokenTtlSec : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new UsageError(`--ttl '${values.ttl}' is not a positive integer`);
  console.log(JSON.stringify(withStore(config, (s) => s.createEnrollmentToken(ttl))));
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

/** Where `control devices|sessions|spool|token create` send their admin API calls, and with which token. */
const resolveTarget: ResolveTarget = (values) => {
  const cfg = configFrom(values);
  const addr = values.node ?? process.env.PVRLINK_NODE ?? cfg.publicHttp ?? cfg.http;
  const base = /^https?:\/\//.test(addr) ? addr.replace(/\/$/, "") : `http://${addr}`;
  let token = process.env.PVRLINK_ADMIN_TOKEN ?? cfg.adminToken;
  if (!token) {
    const file = join(cfg.data, ADMIN_TOKEN_FILE);
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new InputError(
        `Cannot read the admin token from ${file}: ${(err as Error).message}; set PVRLINK_ADMIN_TOKEN or --data`,
        "ERR_ADMIN_TOKEN",
      );
    }
  }
  return { base, token };
};

/** backup DIR / restore DIR: local operations on the data directory (the node may run during a backup). */
function backupOrRestore(which: "backup" | "restore", args: string[]): number {
  const { values, positionals } = parseFlags(args, { config: { type: "string" }, data: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError(`${which} takes exactly one DIR`);
  const config = configFrom(values);
  try {
    const m =
      which === "backup"
        ? backupNode(config.data, positionals[0]!)
        : restoreNode(positionals[0]!, config.data);
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
  summary: "run and administer the control node (serve, enroll, token, devices, sessions, spool, backup)",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "serve":
        return serve(rest);
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
