/** @module The recorder's configuration: defaults, a JSON config file and flags merged and validated. */
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { defaultDataDir } from "../../cli/data-dir.ts";
import { PATTERN_VERSIONS_READ } from "../../codec/pattern/pattern-header.ts";
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from "../load/load-monitor.ts";
import { type ProcessPriority, parseProcessPriority } from "../priority/process-priority.ts";
import type { ConfigFlagValues } from "./config-flags.ts";
import { type ConfigSources, filePath, layered, openSources } from "./config-sources.ts";
import {
  type Fail,
  type HostPort,
  hostPort,
  numberIn,
  type Parse,
  parseHostPort,
  parseName,
  url,
} from "./config-value-parsers.ts";

/** Who answers "may this caller connect?": the node's copy of the allow-list, or this device (verdict triggers). */
export type AllowPolicy = "node" | "device" | "list";

export interface RecorderConfig {
  /** Device name used at enrollment; names look like phone numbers or e-mail addresses too. */
  name: string;
  /** Control node HTTP base URL, e.g. http://node.example:8650. */
  nodeUrl: string;
  /** Control node UDP endpoint for STUN keepalives and triggers. */
  nodeUdp: HostPort;
  /** Further UDP endpoints of a clustered node, tried in turn after three unanswered keepalives (issue 16). */
  nodeUdpFallbacks: HostPort[];
  /**
   * Further HTTP nodes of a cluster (issue 16): a call that fails before any answer is sent again to the next
   * (calls that create something carry an idempotency key, so a retry creates nothing twice).
   */
  nodeUrlFallbacks: string[];
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
  /**
   * The size rule (seed A variation 10): a non-secret recording smaller than this many bytes is sent whole,
   * sealed, through the node; larger ones directly or split. undefined: no size rule (the type decides).
   */
  sealedBelowBytes: number | undefined;
  /**
   * How long an interrupted live receive is kept for a resumed send (firmware/recorder/partial-receives.ts),
   * in seconds; then it is swept. Default 24 h.
   */
  partialHoldSeconds: number;
  /**
   * The pattern header versions ACCEPTED lists (docs/protocol.md): every version this build reads by default.
   * A subset makes this recorder look like an older pvrlink to senders (they send the parts it does not list
   * sealed); for interoperability tests, or to keep senders off a version. It cannot list one it does not read.
   */
  patternVersions: readonly number[];
}

/** The default of partialHoldSeconds: a day, so a send cut in the evening resumes the next morning. */
export const DEFAULT_PARTIAL_HOLD_SECONDS = 24 * 3600;

/** The control node's default HTTP listener (control/control-config.ts DEFAULT_CONFIG.http). */
export const DEFAULT_NODE_URL = "http://127.0.0.1:8650";
/** STUN's registered port (RFC 8489), also the control node's default UDP port, the node's UDP keepalive/trigger port by default. */
export const DEFAULT_NODE_UDP_PORT = 3478;
/** Direct-channel listener default; a fixed port so a router's port forward can be set up once. */
export const DEFAULT_LISTEN: HostPort = { host: "0.0.0.0", port: 8471 };
/** The contract's keepalive default, well under common NAT UDP mapping timeouts (RFC 4787 REQ-5: >= 2 min). */
export const DEFAULT_KEEPALIVE_SECONDS = 25;

function parsePolicy(v: unknown, what: string, fail: Fail): AllowPolicy {
  if (v !== "node" && v !== "device" && v !== "list")
    fail(what, `${JSON.stringify(v)} is not "node", "device" or "list"`);
  return v as AllowPolicy;
}

/** Step 2: the data directory and what lives under it by default. */
function resolvePaths(src: ConfigSources): Pick<RecorderConfig, "dataDir" | "libraryDir" | "credentialPath"> {
  const { flags } = src;
  const dataDir =
    (flags.data !== undefined ? resolve(flags.data) : undefined) ??
    filePath(src, "dataDir") ??
    defaultDataDir(src.env);
  const libraryDir =
    (flags.library !== undefined ? resolve(flags.library) : undefined) ??
    filePath(src, "libraryDir") ??
    join(dataDir, "library");
  const credentialPath = filePath(src, "credentialPath") ?? join(dataDir, "credential.json");
  return { dataDir, libraryDir, credentialPath };
}

/** Step 3: the node's HTTP URL and UDP endpoint (by default the URL's host on the STUN port). */
function resolveNode(src: ConfigSources): Pick<RecorderConfig, "nodeUrl" | "nodeUdp"> {
  const nodeUrl = layered(src, {
    flag: "node",
    key: "nodeUrl",
    parse: url,
    fallback: () => DEFAULT_NODE_URL,
  });
  const nodeUdp = layered(src, {
    flag: "node-udp",
    key: "nodeUdp",
    parse: hostPort,
    fallback: () => ({
      host: new URL(nodeUrl).hostname.replace(/^\[|\]$/g, ""),
      port: DEFAULT_NODE_UDP_PORT,
    }),
  });
  return { nodeUrl, nodeUdp };
}

/** Step 4: the direct listener and the address announced for it, if another. */
function resolveListener(src: ConfigSources): Pick<RecorderConfig, "listen" | "advertise"> {
  const listen = layered(src, {
    flag: "listen",
    key: "listen",
    parse: hostPort,
    // PVRLINK_LISTEN sits between the file and the default, so a walkthrough or a test can pick a free port.
    fallback: () =>
      src.env.PVRLINK_LISTEN
        ? parseHostPort(src.env.PVRLINK_LISTEN, "PVRLINK_LISTEN")
        : { ...DEFAULT_LISTEN },
  });
  const advertise = layered<HostPort | undefined>(src, {
    flag: "advertise",
    key: "advertise",
    parse: hostPort,
    fallback: () => undefined,
  });
  return { listen, advertise };
}

/** Step 5: the load limits; each limit has its own flag and its own key under the file's loadLimits. */
function resolveLoadLimits(src: ConfigSources): LoadLimits {
  const fl = src.file.loadLimits;
  if (fl !== undefined && (typeof fl !== "object" || fl === null || Array.isArray(fl)))
    src.fileFail("loadLimits", "is not an object");
  const fileLimits = (fl ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(fileLimits))
    if (!(k in DEFAULT_LOAD_LIMITS)) src.fileFail("loadLimits", `unknown key '${k}'`);
  const limit = (key: keyof LoadLimits, flag: keyof ConfigFlagValues, parse: Parse<number>) =>
    layered(src, {
      flag,
      key,
      within: { body: fileLimits, name: "loadLimits" },
      parse,
      fallback: () => DEFAULT_LOAD_LIMITS[key],
    });
  return {
    cpu: limit("cpu", "load-cpu", numberIn({ min: 0.01, max: 1 })),
    pressure: limit("pressure", "load-pressure", numberIn({ min: 0.01, max: 100 })),
    transfers: limit("transfers", "max-transfers", numberIn({ min: 1, max: 1000, integer: true })),
  };
}

/** Step 3b: the file's further UDP endpoints (no flag: a cluster's operator ships them in the config). */
function resolveNodeUdpFallbacks(src: ConfigSources): HostPort[] {
  const v = src.file.nodeUdpFallbacks;
  if (v === undefined) return [];
  if (!Array.isArray(v)) src.fileFail("nodeUdpFallbacks", "is not an array of HOST:PORT");
  return (v as unknown[]).map((e, i) => hostPort(e, `nodeUdpFallbacks[${i}]`, src.fileFail));
}

/** Step 3c: the file's further HTTP node URLs (no flag, as for the UDP endpoints). */
function resolveNodeUrlFallbacks(src: ConfigSources): string[] {
  const v = src.file.nodeUrlFallbacks;
  if (v === undefined) return [];
  if (!Array.isArray(v)) src.fileFail("nodeUrlFallbacks", "is not an array of URLs");
  return (v as unknown[]).map((e, i) => url(e, `nodeUrlFallbacks[${i}]`, src.fileFail));
}

/** Step 6: the file's device-held allow-list (no flag: it is edited with `pvrlink permit`). */
function resolveAllow(src: ConfigSources): string[] {
  const v = src.file.allow;
  if (v === undefined) return [];
  if (!Array.isArray(v)) src.fileFail("allow", "is not an array of names");
  return (v as unknown[]).map((name, i) => parseName(name, `allow[${i}]`, src.fileFail));
}

/** Step 7: the size rule (`--sealed-below` or the file's sealedBelowBytes); none by default. */
function resolveSizeRule(src: ConfigSources): number | undefined {
  return layered<number | undefined>(src, {
    flag: "sealed-below",
    key: "sealedBelowBytes",
    parse: numberIn({ min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
    fallback: () => undefined,
  });
}

/** Step 8: the file's pattern header versions (no flag): a subset of PATTERN_VERSIONS_READ, each once. */
function resolvePatternVersions(src: ConfigSources): readonly number[] {
  const v = src.file.patternVersions;
  if (v === undefined) return PATTERN_VERSIONS_READ;
  if (!Array.isArray(v)) src.fileFail("patternVersions", "is not an array of pattern header versions");
  const list = v as unknown[];
  list.forEach((x, i) => {
    if (!PATTERN_VERSIONS_READ.includes(x as number))
      src.fileFail(
        `patternVersions[${i}]`,
        `${JSON.stringify(x)} is not a version this pvrlink reads (${PATTERN_VERSIONS_READ.join(", ")})`,
      );
    if (list.indexOf(x) !== i) src.fileFail(`patternVersions[${i}]`, `${x} is listed twice`);
  });
  return list as number[];
}

/**
 * Builds the configuration: flags override the config file, which overrides defaults. Relative paths in the
 * file are relative to the file; in flags, to the working directory. PVRLINK_DATA sets the default data dir.
 * The steps run in a fixed order, so of several bad values the first one in that order is reported.
 */
export async function resolveConfig(
  flags: ConfigFlagValues,
  env: Record<string, string | undefined> = process.env,
): Promise<RecorderConfig> {
  const src = openSources(flags, env);
  const { dataDir, libraryDir, credentialPath } = resolvePaths(src);
  const name = layered(src, { flag: "name", key: "name", parse: parseName, fallback: hostname });
  const { nodeUrl, nodeUdp } = resolveNode(src);
  const nodeUdpFallbacks = resolveNodeUdpFallbacks(src);
  const nodeUrlFallbacks = resolveNodeUrlFallbacks(src);
  const { listen, advertise } = resolveListener(src);
  const loadLimits = resolveLoadLimits(src);
  // Below 5 s a fleet of recorders floods the node; above 5 min most NATs drop the UDP mapping.
  const keepaliveSeconds = layered(src, {
    flag: "keepalive",
    key: "keepaliveSeconds",
    parse: numberIn({ min: 5, max: 300 }),
    fallback: () => DEFAULT_KEEPALIVE_SECONDS,
  });
  const policy = layered(src, {
    flag: "policy",
    key: "policy",
    parse: parsePolicy,
    fallback: (): AllowPolicy => "node",
  });
  const allow = resolveAllow(src);
  const sealedBelowBytes = resolveSizeRule(src);
  const partialHoldSeconds = layered(src, {
    flag: "partial-hold",
    key: "partialHoldSeconds",
    parse: numberIn({ min: 1, max: 30 * 24 * 3600, integer: true }),
    fallback: () => DEFAULT_PARTIAL_HOLD_SECONDS,
  });
  const patternVersions = resolvePatternVersions(src);
  return {
    name,
    nodeUrl,
    nodeUdp,
    nodeUdpFallbacks,
    nodeUrlFallbacks,
    dataDir,
    libraryDir,
    credentialPath,
    listen,
    advertise,
    loadLimits,
    keepaliveSeconds,
    policy,
    allow,
    priority: parseProcessPriority(src.file.priority, src.fileFail),
    sealedBelowBytes,
    partialHoldSeconds,
    patternVersions,
  };
}
