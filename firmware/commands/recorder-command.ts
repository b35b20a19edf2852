/** @module `pvrlink recorder enroll|run|status|busy`: enrol this recorder, run its daemon, show its state, switch "busy". */
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Command, EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { DaemonLifetime } from "../../cli/daemon-lifetime.ts";
import { detach, stopDaemon } from "../../cli/detach.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { subcommandHelp } from "../../cli/subcommand-help.ts";
import { normalizePin } from "../../crypto/certificate-pin.ts";
import { toBase64url } from "../../crypto/random-token.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { type NodeTrust, nodeFetch } from "../../protocol/node-fetch.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { type HostPort, parseHostPort } from "../config/config-value-parsers.ts";
import { DeviceCredential, loadCredential, saveCredential } from "../config/credential-store.ts";
import { type RecorderConfig, resolveConfig } from "../config/recorder-config.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { describeLoadStatus, LoadMonitor } from "../load/load-monitor.ts";
import { ProcLoadSource } from "../load/load-source.ts";
import { lowerProcessPriority } from "../priority/process-priority.ts";
import { BusySwitch } from "../recorder/busy-switch.ts";
import { formatDaemonLine } from "../recorder/daemon-log.ts";
import { RecorderDaemon } from "../recorder/recorder-daemon.ts";
import { describeRecorderLoad, RecorderLoad } from "../recorder/recorder-load.ts";
import { daemonAlive, type RecorderStatus, readStatus } from "../recorder/recorder-status-file.ts";

const HELP = `Usage:
  pvrlink recorder enroll --node URL [--udp HOST:PORT] [--pin PIN] (--token T --name NAME | --credential FILE) [--data DIR]
  pvrlink recorder run [--detach] [--config FILE] [--data DIR] [options]
  pvrlink recorder stop [--data DIR]
  pvrlink recorder status [--data DIR] [--json]
  pvrlink recorder busy on|off [--data DIR]

enroll   Redeems an enrollment token at the node (or imports the JSON that 'pvrlink control enroll' printed)
         and stores the credential 0600 in DATA/credential.json. Prints {"id","name","node"}; never the secret.
run      The daemon. First stdout line: {"direct":"HOST:PORT","device":"<id>","name":"<name>"}; then one log
         line per event (no secrets). Keeps a UDP keepalive to the node (which also carries the node's
         triggers), registers and re-registers when the mapping or the node changes, answers STATUS from the
         load monitor and VERDICT (or, under policy list, LIST) from the device-held allow-list, accepts callers on the direct channel,
         receives recordings (direct, relay, split) into the library, and picks up stored transfers when
         the load allows. SIGTERM/SIGINT stop it. --detach runs it in the background (log in
         DATA/recorder.log) and returns once the node has its registration. One daemon per data
         directory: DATA/recorder.pid holds its PID, and a second 'run' is refused (ERR_ALREADY_RUNNING).
stop     Stops the daemon running on DATA.
status   The load verdict and its reasons now, plus the daemon's state (registered address, public mapping,
         last keepalive, active transfers, inbox) from DATA/recorder-status.json; works without a daemon.
busy     The operator's "do not disturb" switch: while on, STATUS answers busy and stored transfers wait.

Options:
  --node URL             control node HTTP URL (enroll: required; run: overrides the credential's)
  --udp HOST:PORT        control node UDP endpoint (enroll; default: the node's host, port 3478)
  --token T --name NAME  enrollment token and this recorder's name (enroll)
  --pin PIN              the node certificate's pin (sha256/BASE64 or hex) that 'pvrlink control token' printed;
                         enroll refuses any other certificate (node_pin_mismatch). Without it, an https node
                         must have a certificate the system CAs accept
  --credential FILE      import a credential printed by 'pvrlink control enroll' (enroll)
  --force                replace an existing credential (enroll)
  --keepalive-floor SEC  shortest keepalive interval while answers are missing (run; default 5)
  --inbox-every SEC      how often the inbox is checked (run; default 60)
  --load-from DIR        read DIR/stat and DIR/pressure instead of /proc/stat and /proc/pressure/cpu (run,
                         status): a container's own view, or a scripted load in tests and demos
  --detach               run the daemon in the background (run)
  --json                 machine-readable status
  --data DIR             data directory (default: $PVRLINK_DATA or ~/.local/share/pvrlink)
  --listen HOST:PORT     direct-channel listener (default: $PVRLINK_LISTEN or 0.0.0.0:8471; port 0: any)
  --advertise HOST:PORT  the address announced to the node when it differs (a router's port forward);
                         HOST may be a DNS name (dynamic DNS): the node resolves it when a caller asks
  --config FILE          JSON config (default: DATA/config.json when present)
  --keepalive SEC, --load-cpu F, --load-pressure P, --max-transfers N, --node-udp HOST:PORT,
  --library DIR, --policy node|device|list, --sealed-below N: run 'pvrlink help daemon' for every setting
  --partial-hold SEC     how long an interrupted live receive is kept for 'send --resume' (run; default 86400)

Exit codes: 0 success, 1 bad input (no credential, node refused), 2 bad usage.`;

const FLAGS = {
  ...CONFIG_FLAGS,
  udp: { type: "string" },
  token: { type: "string" },
  pin: { type: "string" },
  credential: { type: "string" },
  force: { type: "boolean" },
  "keepalive-floor": { type: "string" },
  "inbox-every": { type: "string" },
  "load-from": { type: "string" },
  json: { type: "boolean" },
  detach: { type: "boolean" },
} as const;

const LOCK_FILE = "recorder.pid";
const LOG_FILE = "recorder.log";

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

function seconds(
  v: string | undefined,
  flag: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag} '${v}' is not a number in [${min}, ${max}]`);
  return n;
}

function pinOf(text: string): string {
  try {
    return normalizePin(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function enroll(values: Values, config: RecorderConfig): Promise<number> {
  const existing = await loadCredential(config.credentialPath).catch(() => undefined);
  if (existing && !values.force) {
    throw new InputError(
      `Cannot enroll: ${config.credentialPath} already holds device ${existing.id} (${existing.name}); use --force to replace it`,
      "ERR_ALREADY_ENROLLED",
    );
  }
  let cred: DeviceCredential;
  if (values.credential !== undefined) {
    if (values.token !== undefined) throw new UsageError("give --token or --credential, not both");
    let body: unknown;
    try {
      body = JSON.parse(await readFile(values.credential, "utf8"));
    } catch (err) {
      throw new InputError(
        `Cannot read credential ${values.credential}: ${(err as Error).message}`,
        "ERR_CREDENTIAL_INVALID",
      );
    }
    const c = DeviceCredential.fromEnrollment(body, values.node);
    const secret = (body as { secret: string }).secret;
    // An older `pvrlink control enroll` printed the listen address ("host:port"); the credential keeps a URL.
    const http =
      values.node !== undefined ? config.nodeUrl : c.node.includes("://") ? c.node : `https://${c.node}`;
    cred = new DeviceCredential({
      id: c.id,
      name: c.name,
      secret,
      node: http,
      nodeUdp: values.udp ?? c.nodeUdp,
      nodePin: values.pin ?? c.nodePin,
    });
  } else {
    if (values.node === undefined) throw new UsageError("--node URL is required to redeem a token");
    if (values.token === undefined || values.name === undefined)
      throw new UsageError("give --token T --name NAME, or --credential FILE");
    let r: Awaited<ReturnType<typeof ControlClient.enroll>>;
    const pin = values.pin === undefined ? undefined : pinOf(values.pin);
    try {
      const trust: NodeTrust = pin === undefined ? { kind: "ca" } : { kind: "pin", pin };
      r = await ControlClient.enroll(config.nodeUrl, values.token, config.name, nodeFetch(trust));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "ERR_ENROLL";
      throw new InputError(`Cannot enroll at ${config.nodeUrl}: ${(err as Error).message}`, code);
    }
    const udp = values.udp ?? `${config.nodeUdp.host}:${config.nodeUdp.port}`;
    cred = new DeviceCredential({
      id: r.id,
      name: r.name,
      secret: r.secret,
      node: config.nodeUrl,
      nodeUdp: udp,
      nodePin: pin,
    });
  }
  if (cred.nodeUdp !== undefined) parseHostPort(cred.nodeUdp, "--udp");
  await saveCredential(config.credentialPath, cred);
  // The identity key pair is made here, once; the private half never leaves DATA/identity-key.json (0600).
  const identity = await loadOrCreateIdentity(config.dataDir);
  const client = new ControlClient({
    baseUrl: cred.node,
    deviceId: cred.id,
    secret: toBase64url(cred.secretBytes()),
    trust: cred.trust,
  });
  await client.publishIdentity(identity.publicKey).catch((err: unknown) => {
    // The daemon publishes it again at every start; enrollment itself succeeded.
    process.stderr.write(`identity key not published yet: ${(err as Error).message}\n`);
  });
  console.log(
    JSON.stringify({ ...(cred.toJSON() as object), fingerprint: identity.fingerprint }).replace(
      ',"secret":"[redacted]"',
      "",
    ),
  );
  return EXIT_OK;
}

/** The node as this run reaches it: a flag wins, then the credential (what enrollment said), then the config. */
function nodeOf(
  values: Values,
  config: RecorderConfig,
  cred: DeviceCredential,
): { url: string; udp: HostPort } {
  const url =
    values.node !== undefined ? config.nodeUrl : cred.node.includes("://") ? cred.node : config.nodeUrl;
  const udp =
    values["node-udp"] !== undefined || cred.nodeUdp === undefined
      ? config.nodeUdp
      : parseHostPort(cred.nodeUdp, "credential node.udp");
  return { url: url.replace(/\/$/, ""), udp };
}

/** `run --detach`: the same command in the background; returns once the node has the daemon's registration. */
async function runDetached(args: string[], config: RecorderConfig): Promise<number> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  await loadCredential(config.credentialPath); // no credential: say so here, not in a log file
  const { ready } = await detach({
    args: ["recorder", ...args.filter((a) => a !== "--detach")],
    logFile: join(config.dataDir, LOG_FILE),
    lockFile: join(config.dataDir, LOCK_FILE),
    what: "the recorder daemon",
    ready: (pid) => {
      const s = readStatus(config.dataDir);
      return s?.pid === pid && s.registered !== null ? s : undefined;
    },
  });
  console.log(JSON.stringify({ direct: ready.direct, device: ready.device, name: ready.name }));
  process.stderr.write(
    `recorder daemon running in the background (pid ${ready.pid}), registered with ${ready.node.url}; log ${join(config.dataDir, LOG_FILE)}\n`,
  );
  return EXIT_OK;
}

async function run(values: Values, config: RecorderConfig): Promise<number> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  using life = DaemonLifetime.begin(
    join(config.dataDir, LOCK_FILE),
    "the recorder daemon",
    "pvrlink recorder stop",
  );
  const floor = seconds(values["keepalive-floor"], "--keepalive-floor", { min: 0.1, max: 300 });
  const every = seconds(values["inbox-every"], "--inbox-every", { min: 1, max: 86_400 });
  const cred = await loadCredential(config.credentialPath);
  const node = nodeOf(values, config, cred);
  let early: string[] | undefined = [];
  const daemon = await RecorderDaemon.start({
    config,
    credential: cred,
    nodeUrl: node.url,
    nodeUdp: node.udp,
    ...(floor !== undefined ? { keepaliveFloorMs: floor * 1000 } : {}),
    ...(every !== undefined ? { inboxEveryMs: every * 1000 } : {}),
    loadSource: loadSource(values),
    // Scripts read the first line as the daemon's address: lines logged while it starts wait behind it.
    log: (line) => (early ? early.push(line) : process.stdout.write(`${line}\n`)),
  });
  process.stdout.write(`${JSON.stringify({ direct: daemon.direct, device: cred.id, name: cred.name })}\n`);
  for (const line of early) process.stdout.write(`${line}\n`);
  early = undefined;
  // After start-up, so the threads Bun started for the daemon's work are there to be lowered too.
  const { problems, ...priority } = lowerProcessPriority(config.priority);
  process.stdout.write(`${formatDaemonLine("priority", priority)}\n`);
  for (const p of problems) process.stdout.write(`${formatDaemonLine("priority-failed", { message: p })}\n`);
  const signal = await life.stopped;
  process.stdout.write(`${formatDaemonLine("stopping", { signal })}\n`);
  await daemon.close();
  return EXIT_OK;
}

function loadSource(values: Values): ProcLoadSource {
  const dir = values["load-from"];
  return dir === undefined
    ? new ProcLoadSource()
    : new ProcLoadSource(join(dir, "stat"), join(dir, "pressure"));
}

/** A live reading: two samples of /proc over a short window (the CPU share needs a difference). */
async function liveLoad(values: Values, config: RecorderConfig) {
  const monitor = new LoadMonitor({ source: loadSource(values), limits: config.loadLimits });
  await monitor.sample();
  await Bun.sleep(250);
  await monitor.sample();
  const load = new RecorderLoad(monitor, new BusySwitch(config.dataDir));
  return load.status();
}

function ago(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "never";
  return `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
}

async function status(values: Values, config: RecorderConfig): Promise<number> {
  const load = await liveLoad(values, config);
  let daemon: RecorderStatus | undefined;
  try {
    daemon = readStatus(config.dataDir);
  } catch {
    daemon = undefined;
  }
  const running = daemon !== undefined && daemonAlive(daemon);
  if (values.json) {
    console.log(JSON.stringify({ load, daemon: daemon ? { running, ...daemon } : null }));
    return EXIT_OK;
  }
  const lines = [`load: ${describeRecorderLoad(load, describeLoadStatus(load))}`];
  if (!daemon) lines.push("daemon: never ran with this data dir");
  else {
    lines.push(
      `daemon: ${running ? `running (pid ${daemon.pid})` : "not running"}, device ${daemon.device} (${daemon.name})`,
    );
    lines.push(
      `registered: ${daemon.registered ? `${daemon.registered.address}:${daemon.registered.port} ${ago(daemon.registered.at)}` : `no${daemon.registerError ? ` (${daemon.registerError})` : ""}`}`,
    );
    lines.push(`public address (keepalive): ${daemon.mapped ?? "unknown"}`);
    lines.push(
      `last keepalive: sent ${ago(daemon.lastKeepaliveAt)}, answered ${ago(daemon.lastAnswerAt)}, interval ${daemon.keepaliveIntervalSec} s, node ${daemon.nodeReachable ? "reachable" : "not answering"}`,
    );
    lines.push(`direct listener: ${daemon.direct}`);
    lines.push(`active transfers: ${daemon.transfers.length}`);
    for (const t of daemon.transfers) lines.push(`  ${t.name} via ${t.via}: ${t.bytes} bytes`);
    lines.push(
      `inbox: ${daemon.inbox.pending} pending${daemon.inbox.waitingForLoad ? " (waiting for load)" : ""}, ${daemon.inbox.failed.length} failed`,
    );
  }
  console.log(lines.join("\n"));
  return EXIT_OK;
}

export const command: Command = {
  summary: "enroll this recorder, run its daemon, show its status, switch busy",
  help: HELP,
  helpFor: (args) => subcommandHelp(HELP, "recorder", args[0]),
  async run(args) {
    const { values, positionals } = parseFlags(args, FLAGS);
    const [action, ...rest] = positionals;
    const config = await resolveConfig(values as ConfigFlagValues);
    switch (action) {
      case "enroll":
        if (rest.length) throw new UsageError("enroll takes no arguments");
        return enroll(values, config);
      case "run":
        if (rest.length) throw new UsageError("run takes no arguments");
        return values.detach ? runDetached(args, config) : run(values, config);
      case "stop": {
        if (rest.length) throw new UsageError("stop takes no arguments");
        const stopped = await stopDaemon(join(config.dataDir, LOCK_FILE), "the recorder daemon");
        console.log(
          stopped
            ? `stopped the recorder daemon on ${config.dataDir}`
            : `no recorder daemon runs on ${config.dataDir}`,
        );
        return EXIT_OK;
      }
      case "status":
        if (rest.length) throw new UsageError("status takes no arguments");
        return status(values, config);
      case "busy": {
        if (rest.length !== 1 || (rest[0] !== "on" && rest[0] !== "off"))
          throw new UsageError("busy takes on or off");
        const sw = new BusySwitch(config.dataDir);
        mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
        sw.set(rest[0] === "on");
        console.log(`busy switch ${rest[0]}`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(
          action === undefined ? "expected enroll, run, stop, status or busy" : `unknown action '${action}'`,
        );
    }
  },
};
