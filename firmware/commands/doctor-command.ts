/** @module `pvrlink doctor`: checks this recorder's connectivity step by step and explains each result in plain words. */
import { createSocket } from "node:dgram";
import { statfs } from "node:fs/promises";
import { type Command, EXIT_INPUT, EXIT_OK, UsageError } from "../../cli/command.ts";
import { errorLine } from "../../cli/error-line.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import {
  buildKeepalive,
  KEEPALIVE_WINDOW_MS,
  keepaliveKey,
  readKeepaliveResponse,
} from "../../protocol/keepalive-request.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { parseHostPort } from "../config/config-value-parsers.ts";
import { type DeviceCredential, loadCredential } from "../config/credential-store.ts";
import { type RecorderConfig, resolveConfig } from "../config/recorder-config.ts";
import { recorderNodeClient } from "../config/recorder-node-client.ts";
import { formatBytes } from "../progress/format-progress.ts";
import { daemonAlive, readStatus } from "../recorder/recorder-status-file.ts";

const HELP = `Usage: pvrlink doctor [--data DIR] [--json]

Checks, in order, and says in plain words what each result means (like 'tailscale netcheck'):
  credential   this recorder is enrolled (DATA/credential.json)
  node         the control node answers at the credential's URL, and how fast
  auth         the node accepts this recorder's credential
  clock        this box's clock against the node's (signed requests allow 60 s)
  udp          a keepalive reaches the node's UDP port and is answered; the public mapping it saw, and
               whether a NAT sits between this box and the node
  daemon       the recorder daemon runs and the node has its direct address
  disk         free space where the library keeps recordings
Not checked, and said so: whether the direct port is reachable from outside (a probe must come from
outside; the node does it when its tcpProbe option is on) and the NAT's mapping behaviour (it needs a
second server address).

Options:
  --json       one JSON object {ok, checks: [{name, status, detail}]}
  --data DIR, --config FILE, --node URL: as for 'pvrlink recorder'

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad usage.`;

type Status = "ok" | "warn" | "fail" | "skip";
interface Check {
  name: string;
  status: Status;
  detail: string;
}

/** What the steps share: each step reads what earlier ones found and adds its check. */
interface Doctor {
  config: RecorderConfig;
  values: ConfigFlagValues;
  checks: Check[];
  cred?: DeviceCredential;
  client?: ControlClient;
  nodeUrl?: string;
  answer?: Response;
}

function add(d: Doctor, name: string, status: Status, detail: string): void {
  d.checks.push({ name, status, detail });
}

async function checkCredential(d: Doctor): Promise<void> {
  try {
    d.cred = await loadCredential(d.config.credentialPath);
  } catch (err) {
    return add(d, "credential", "fail", errorLine(err).message);
  }
  const c = d.cred;
  d.nodeUrl = (d.values.node !== undefined || !c.node.includes("://") ? d.config.nodeUrl : c.node).replace(
    /\/$/,
    "",
  );
  d.client = recorderNodeClient(c, d.config, { nodeFlag: d.values.node !== undefined });
  add(d, "credential", "ok", `enrolled as ${c.name} (${c.id}) with the node at ${d.nodeUrl}`);
}

async function checkNode(d: Doctor): Promise<void> {
  if (!d.client) return add(d, "node", "skip", "no credential, so no node to ask");
  const started = performance.now();
  try {
    d.answer = await d.client.raw("GET", "/v1/registration");
  } catch (err) {
    const e = errorLine(err);
    return add(d, "node", "fail", `${e.message} (${e.code})${e.next ? `; ${e.next}` : ""}`);
  }
  const ms = Math.round(performance.now() - started);
  const tls = d.nodeUrl?.startsWith("https:")
    ? "TLS checked against the system's certificate authorities"
    : "plain HTTP: requests are signed, not encrypted";
  // With nodeUrlFallbacks the answer may have come from a later URL: say which, and that the first did not answer.
  const answered = d.client.currentUrl;
  const via = answered === d.nodeUrl ? "" : ` (${d.nodeUrl} did not answer)`;
  add(d, "node", "ok", `${answered} answers in ${ms} ms${via}; ${tls}`);
}

async function checkAuth(d: Doctor): Promise<void> {
  const res = d.answer;
  if (!res) return add(d, "auth", "skip", "the node did not answer");
  if (res.status === 200 || res.status === 404)
    return add(d, "auth", "ok", "the node knows this recorder and accepts its signature");
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const code = body.error?.code ?? `HTTP ${res.status}`;
  const why =
    code === "unknown_device"
      ? "the node does not know this recorder: it was removed, or the credential belongs to another node; enroll again"
      : code === "stale_request"
        ? "the node refused the request's time: see the clock check"
        : (body.error?.message ?? "unexpected answer");
  add(d, "auth", "fail", `${why} (${code})`);
}

async function checkClock(d: Doctor): Promise<void> {
  const date = d.answer?.headers.get("date");
  if (!date) return add(d, "clock", "skip", "the node sent no Date header to compare with");
  // Date has one-second resolution: a skew under 2 s is below what it can show.
  const skew = Math.round((Date.now() - Date.parse(date)) / 1000);
  const text = `this box's clock is ${Math.abs(skew)} s ${skew >= 0 ? "ahead of" : "behind"} the node's`;
  const limit = KEEPALIVE_WINDOW_MS / 1000;
  if (Math.abs(skew) >= limit)
    return add(d, "clock", "fail", `${text}: over the ${limit} s signed requests allow; set the time (NTP)`);
  add(d, "clock", Math.abs(skew) >= limit / 2 ? "warn" : "ok", text);
}

/** One authenticated keepalive to the node's UDP port, three tries of a second each. */
async function checkUdp(d: Doctor): Promise<void> {
  const c = d.cred;
  if (!c) return add(d, "udp", "skip", "no credential");
  const node: { host: string; port: number } =
    d.values["node-udp"] !== undefined || c.nodeUdp === undefined
      ? d.config.nodeUdp
      : parseHostPort(c.nodeUdp, "credential node.udp");
  const key = keepaliveKey(c.secretBytes());
  const socket = createSocket(node.host.includes(":") ? "udp6" : "udp4");
  socket.on("error", () => {});
  try {
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { bytes, transactionId } = buildKeepalive({ deviceId: c.id, key, now: Date.now() });
      const answer = new Promise<Uint8Array | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 1000);
        socket.once("message", (m) => {
          clearTimeout(timer);
          resolve(new Uint8Array(m));
        });
      });
      socket.send(bytes, node.port, node.host);
      const reply = await answer;
      if (reply === undefined) continue;
      try {
        const mapped = readKeepaliveResponse(reply, { key, transactionId });
        const local = socket.address();
        const nat =
          mapped.address === local.address || local.address === "0.0.0.0"
            ? mapped.port === local.port
              ? "no NAT between this box and the node"
              : "the port was translated: a NAT sits between this box and the node"
            : "a NAT sits between this box and the node";
        return add(
          d,
          "udp",
          "ok",
          `the node at ${node.host}:${node.port} answered; it sees this box as ${mapped.address}:${mapped.port} (${nat})`,
        );
      } catch (err) {
        return add(d, "udp", "fail", `the node's answer did not verify: ${errorLine(err).message}`);
      }
    }
    add(
      d,
      "udp",
      "fail",
      `no answer from ${node.host}:${node.port} after 3 keepalives: a firewall may block UDP to it, or the node's UDP address is wrong`,
    );
  } finally {
    socket.close();
  }
}

async function checkDaemon(d: Doctor): Promise<void> {
  let status: ReturnType<typeof readStatus>;
  try {
    status = readStatus(d.config.dataDir);
  } catch {
    status = undefined;
  }
  if (!status || !daemonAlive(status))
    return add(
      d,
      "daemon",
      "fail",
      "the recorder daemon is not running, so nobody can send to this box: 'pvrlink recorder run --detach'",
    );
  const reg =
    d.answer?.status === 200
      ? ((await d.answer.clone().json()) as { address: string; port: number })
      : undefined;
  if (!reg)
    return add(
      d,
      "daemon",
      "warn",
      `the daemon runs (pid ${status.pid}) but the node has no direct address for it yet`,
    );
  add(
    d,
    "daemon",
    "ok",
    `the daemon runs (pid ${status.pid}); the node gives callers ${reg.address}:${reg.port} for the direct channel (listening on ${status.direct})`,
  );
}

async function checkDisk(d: Doctor): Promise<void> {
  let free: number;
  try {
    const s = await statfs(d.config.dataDir);
    free = s.bavail * s.bsize;
  } catch (err) {
    return add(
      d,
      "disk",
      "warn",
      `cannot read the free space of ${d.config.dataDir}: ${(err as Error).message}`,
    );
  }
  const text = `${formatBytes(free)} free for the library in ${d.config.libraryDir}`;
  add(
    d,
    "disk",
    free < 1024 ** 3 ? "warn" : "ok",
    free < 1024 ** 3 ? `${text}: a long recording may not fit` : text,
  );
}

const FLAGS = { ...CONFIG_FLAGS, json: { type: "boolean" } } as const;

const STEPS = [checkCredential, checkNode, checkAuth, checkClock, checkUdp, checkDaemon, checkDisk];

export const command: Command = {
  summary: "check the node, the credential, UDP, the clock, the daemon and the disk, and explain",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (positionals.length > 0) throw new UsageError("doctor takes no arguments");
    const flags = values as ConfigFlagValues;
    const d: Doctor = { config: await resolveConfig(flags), values: flags, checks: [] };
    for (const step of STEPS) await step(d);
    add(
      d,
      "outside",
      "skip",
      "whether callers outside reach the direct port is not checked from here (the node's tcpProbe option checks it)",
    );
    const ok = d.checks.every((c) => c.status !== "fail");
    if (values.json) console.log(JSON.stringify({ ok, checks: d.checks }));
    else
      console.log(d.checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(10)}  ${c.detail}`).join("\n"));
    return ok ? EXIT_OK : EXIT_INPUT;
  },
};
