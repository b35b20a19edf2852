/** @module The recorder's configuration: defaults, a JSON config file and flags merged and validated. */
import { readFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { InputError, UsageError } from "../../cli/command.ts";
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from "../load/load-monitor.ts";
import { type ProcessPriority, parseProcessPriority } from "../priority/process-priority.ts";

/** Who answers "may this caller connect?": the node's copy of the allow-list, or this device (verdict triggers). */
export type AllowPolicy = "node" | "device";

export interface HostPort {
  host: string;
  port: number;
}

export interface RecorderConfig {
  /** Device name used at enrollment; names look like phone numbers or e-mail addresses too. */
  name: string;
  /** Control node HTTP base URL, e.g. http://node.example:8650. */
  nodeUrl: string;
  /** Control node UDP endpoint for STUN keepalives and triggers. */
  nodeUdp: HostPort;
  /** Where the credential, the library database and received files live. */
  dataDir: string;
  /** Where library recordings are stored (default dataDir/library). */
  libraryDir: string;
  /** The enrollment credential (default dataDir/credential.json, mode 0600). */
  credentialPath: string;
  /** Direct-channel TCP listener. */
  listen: HostPort;
  /**
   * The address announced in PUT /v1/registration when it differs from the listener (a router port forward, or
   * listening on 0.0.0.0); undefined: the wiring announces the listener's port with the node-observed address.
   */
  advertise: HostPort | undefined;
  loadLimits: LoadLimits;
  /** Seconds between keepalives; the node counts a device connected for 3 intervals after one. */
  keepaliveSeconds: number;
  policy: AllowPolicy;
  /** Device-held allow-list (names or @groups), consulted for verdict triggers when policy is "device". */
  allow: string[];
  /** How far the daemon and `send` step back for the recording (CPU nice, I/O class); low by default. */
  priority: ProcessPriority;
}

/** The control node's default HTTP listener (control/control-config.ts DEFAULT_CONFIG.http). */
export const DEFAULT_NODE_URL = "http://127.0.0.1:8650";
/** STUN's registered port (RFC 8489), also the control node's default UDP port, the node's UDP keepalive/trigger port by default. */
export const DEFAULT_NODE_UDP_PORT = 3478;
/** Direct-channel listener default; a fixed port so a router's port forward can be set up once. */
export const DEFAULT_LISTEN: HostPort = { host: "0.0.0.0", port: 8471 };
/** The contract's keepalive default, well under common NAT UDP mapping timeouts (RFC 4787 REQ-5: >= 2 min). */
export const DEFAULT_KEEPALIVE_SECONDS = 25;

/** Flags every recorder-side command accepts; spread into a command's parseFlags spec. */
export const CONFIG_FLAGS = {
  config: { type: "string" },
  name: { type: "string" },
  node: { type: "string" },
  "node-udp": { type: "string" },
  data: { type: "string" },
  library: { type: "string" },
  listen: { type: "string" },
  advertise: { type: "string" },
  "load-cpu": { type: "string" },
  "load-pressure": { type: "string" },
  "max-transfers": { type: "string" },
  keepalive: { type: "string" },
  policy: { type: "string" },
} as const;

export type ConfigFlagValues = { [K in keyof typeof CONFIG_FLAGS]?: string | undefined };

/** The config file's keys; any other key is an error (a typo must not silently fall back to a default). */
const FILE_KEYS = new Set([
  "name",
  "nodeUrl",
  "nodeUdp",
  "dataDir",
  "libraryDir",
  "credentialPath",
  "listen",
  "advertise",
  "loadLimits",
  "keepaliveSeconds",
  "policy",
  "allow",
  "priority",
]);

/** Reports a bad value where it came from: a flag is a usage error (exit 2), the file is bad input (exit 1). */
type Fail = (what: string, why: string) => never;
const flagFail: Fail = (what, why) => {
  throw new UsageError(`${what}: ${why}`);
};
function fileFail(file: string): Fail {
  return (what, why) => {
    throw new InputError(`Cannot use config ${file}: ${what}: ${why}`, "ERR_CONFIG_INVALID");
  };
}

/** Parses "host:port" or "[v6]:port"; port 0..65535. */
export function parseHostPort(s: string, what: string, fail: Fail = flagFail): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) fail(what, `'${s}' is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseUrl(s: string, what: string, fail: Fail): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(what, `'${s}' is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") fail(what, `'${s}' is not an http(s) URL`);
  return u.href.replace(/\/$/, "");
}

function parseNumber(
  v: unknown,
  what: string,
  fail: Fail,
  min: number,
  max: number,
  integer = false,
): number {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (
    typeof n !== "number" ||
    !Number.isFinite(n) ||
    n < min ||
    n > max ||
    (integer && !Number.isInteger(n))
  ) {
    fail(what, `${JSON.stringify(v)} is not ${integer ? "an integer" : "a number"} in [${min}, ${max}]`);
  }
  return n as number;
}

function parseName(v: unknown, what: string, fail: Fail): string {
  // Names are matched case-insensitively by the node; control characters would break logs and prompts.
  if (typeof v !== "string" || v.length === 0 || v.length > 128 || /[\p{Cc}]/u.test(v)) {
    fail(what, `${JSON.stringify(v)} is not a name of 1-128 printable characters`);
  }
  return (v as string).trim();
}

function parsePolicy(v: unknown, what: string, fail: Fail): AllowPolicy {
  if (v !== "node" && v !== "device") fail(what, `${JSON.stringify(v)} is not "node" or "device"`);
  return v as AllowPolicy;
}

function defaultDataDir(env: Record<string, string | undefined>): string {
  if (env.PVRLINK_DATA) return resolve(env.PVRLINK_DATA);
  const xdg = env.XDG_DATA_HOME;
  return join(xdg?.startsWith("/") ? xdg : join(homedir(), ".local", "share"), "pvrlink");
}

/** The config file used: --config (must exist), else dataDir/config.json when present, else none. */
async function readConfigFile(
  flags: ConfigFlagValues,
  dataDir: string,
): Promise<{ path: string; body: Record<string, unknown> } | undefined> {
  const path = flags.config !== undefined ? resolve(flags.config) : join(dataDir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && flags.config === undefined) return undefined;
    throw new InputError(`Cannot read config ${path}: ${(err as Error).message}`, "ERR_CONFIG_FILE");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new InputError(`Cannot parse config ${path}: ${(err as Error).message}`, "ERR_CONFIG_FILE");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InputError(`Cannot use config ${path}: the top level is not a JSON object`, "ERR_CONFIG_FILE");
  }
  for (const key of Object.keys(body)) {
    if (!FILE_KEYS.has(key))
      throw new InputError(`Cannot use config ${path}: unknown key '${key}'`, "ERR_CONFIG_INVALID");
  }
  return { path, body: body as Record<string, unknown> };
}

/**
 * Builds the configuration: flags override the config file, which overrides defaults. Relative paths in the
 * file are relative to the file; in flags, to the working directory. PVRLINK_DATA sets the default data dir.
 */
export async function resolveConfig(
  flags: ConfigFlagValues,
  env: Record<string, string | undefined> = process.env,
): Promise<RecorderConfig> {
  const flagDataDir = flags.data !== undefined ? resolve(flags.data) : undefined;
  const file = await readConfigFile(flags, flagDataDir ?? defaultDataDir(env));
  const f = file?.body ?? {};
  const ff = fileFail(file?.path ?? "");
  const fileDir = file ? dirname(file.path) : process.cwd();
  const filePath = (k: string): string | undefined => {
    const v = f[k];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v === "") ff(k, "is not a path");
    return resolve(fileDir, v as string);
  };

  const dataDir = flagDataDir ?? filePath("dataDir") ?? defaultDataDir(env);
  const libraryDir =
    (flags.library !== undefined ? resolve(flags.library) : undefined) ??
    filePath("libraryDir") ??
    join(dataDir, "library");
  const credentialPath = filePath("credentialPath") ?? join(dataDir, "credential.json");

  const name =
    flags.name !== undefined
      ? parseName(flags.name, "--name", flagFail)
      : f.name !== undefined
        ? parseName(f.name, "name", ff)
        : hostname();
  const nodeUrl =
    flags.node !== undefined
      ? parseUrl(flags.node, "--node", flagFail)
      : f.nodeUrl !== undefined
        ? parseUrl(String(f.nodeUrl), "nodeUrl", ff)
        : DEFAULT_NODE_URL;
  const nodeUdp =
    flags["node-udp"] !== undefined
      ? parseHostPort(flags["node-udp"], "--node-udp")
      : f.nodeUdp !== undefined
        ? parseHostPort(String(f.nodeUdp), "nodeUdp", ff)
        : { host: new URL(nodeUrl).hostname.replace(/^\[|\]$/g, ""), port: DEFAULT_NODE_UDP_PORT };
  const listen =
    flags.listen !== undefined
      ? parseHostPort(flags.listen, "--listen")
      : f.listen !== undefined
        ? parseHostPort(String(f.listen), "listen", ff)
        : { ...DEFAULT_LISTEN };

  const advertise =
    flags.advertise !== undefined
      ? parseHostPort(flags.advertise, "--advertise")
      : f.advertise !== undefined
        ? parseHostPort(String(f.advertise), "advertise", ff)
        : undefined;

  const fl = f.loadLimits;
  if (fl !== undefined && (typeof fl !== "object" || fl === null || Array.isArray(fl)))
    ff("loadLimits", "is not an object");
  const fileLimits = (fl ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(fileLimits))
    if (!(k in DEFAULT_LOAD_LIMITS)) ff("loadLimits", `unknown key '${k}'`);
  const limit = (
    flag: string | undefined,
    flagName: string,
    key: keyof LoadLimits,
    min: number,
    max: number,
    int = false,
  ) =>
    flag !== undefined
      ? parseNumber(flag, flagName, flagFail, min, max, int)
      : fileLimits[key] !== undefined
        ? parseNumber(fileLimits[key], `loadLimits.${key}`, ff, min, max, int)
        : DEFAULT_LOAD_LIMITS[key];
  const loadLimits: LoadLimits = {
    cpu: limit(flags["load-cpu"], "--load-cpu", "cpu", 0.01, 1),
    pressure: limit(flags["load-pressure"], "--load-pressure", "pressure", 0.01, 100),
    transfers: limit(flags["max-transfers"], "--max-transfers", "transfers", 1, 1000, true),
  };

  // Below 5 s a fleet of recorders floods the node; above 5 min most NATs drop the UDP mapping.
  const keepaliveSeconds =
    flags.keepalive !== undefined
      ? parseNumber(flags.keepalive, "--keepalive", flagFail, 5, 300)
      : f.keepaliveSeconds !== undefined
        ? parseNumber(f.keepaliveSeconds, "keepaliveSeconds", ff, 5, 300)
        : DEFAULT_KEEPALIVE_SECONDS;
  const policy =
    flags.policy !== undefined
      ? parsePolicy(flags.policy, "--policy", flagFail)
      : f.policy !== undefined
        ? parsePolicy(f.policy, "policy", ff)
        : "node";
  let allow: string[] = [];
  if (f.allow !== undefined) {
    if (!Array.isArray(f.allow)) ff("allow", "is not an array of names");
    allow = (f.allow as unknown[]).map((v, i) => parseName(v, `allow[${i}]`, ff));
  }

  return {
    name,
    nodeUrl,
    nodeUdp,
    dataDir,
    libraryDir,
    credentialPath,
    listen,
    advertise,
    loadLimits,
    keepaliveSeconds,
    policy,
    allow,
    priority: parseProcessPriority(f.priority, ff),
  };
}
