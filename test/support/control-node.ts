/** @module The real control node (`pvrlink control serve`, from source) as a child process for integration tests. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { ChildProcess, HostPort } from "../../demo/child-process.ts";
import { startNodeDaemon } from "../../demo/daemon-process.ts";
import { AdminClient } from "../../protocol/admin-client.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { nodeFetch } from "../../protocol/node-fetch.ts";
import { PVRLINK_SOURCE, pvrlink } from "./pvrlink-source.ts";

export interface NodeProcess extends AsyncDisposable {
  readonly dataDir: string;
  readonly baseUrl: string;
  /** The node certificate's pin (its first line); clients pin it. */
  readonly pin: string;
  /** fetch pinned to this node's certificate, for raw requests. */
  readonly fetch: typeof fetch;
  readonly http: HostPort;
  readonly udp: HostPort;
  /** The same addresses as "host:port", as the CLI flags take them. */
  readonly httpAddr: string;
  readonly udpAddr: string;
  readonly adminToken: string;
  readonly admin: AdminClient;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Its output lines (the log), to wait for one. */
  readonly log: ChildProcess;
  /** Everything the node logged so far, as one string. */
  stderr(): string;
  /** Sends a signal (SIGKILL after a grace period) and waits for exit; the exit code, null after SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** A ControlClient for an enrolled device. */
  client(cred: { id: string; secret: string }): ControlClient;
  /** Enrolls NAME through the CLI (`pvrlink control enroll`), as an operator would. */
  enroll(name: string): Promise<{ id: string; name: string; secret: string }>;
}

export function makeDataDir(prefix = "pvrlink-control-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface NodeOptions {
  /** Default: a fresh temporary directory. */
  dataDir?: string;
  /** "host:port" to bind; default 127.0.0.1 port 0 (a restart test passes the old ones). */
  http?: string;
  udp?: string;
  /** Control node config overrides (control/control-config.ts keys), written to DATA/test-config.json. */
  config?: Record<string, unknown>;
  /** Keep the data directory when disposed (restart tests remove it themselves). */
  keepData?: boolean;
  /** More `control serve` flags, e.g. ["--insecure-http"]. */
  extraArgs?: string[];
  /** The shared store (`--store`): a postgres:// URL; default the node's embedded sqlite file. */
  store?: string;
}

/** Spawns the node and reads its first stdout line, a JSON object with the bound addresses. */
export async function startNode(o: NodeOptions = {}): Promise<NodeProcess> {
  const dataDir = o.dataDir ?? makeDataDir();
  const args = ["--data", dataDir, ...(o.extraArgs ?? [])];
  // Devices in these tests register 127.0.0.1, which only an operator's explicit setting allows (issue 21 item 9).
  const file = join(dataDir, "test-config.json");
  const store = o.store === undefined ? {} : { store: o.store };
  writeFileSync(file, JSON.stringify({ allowPrivateAddresses: true, ...store, ...o.config }));
  args.push("--config", file);
  const node = await startNodeDaemon(
    { command: PVRLINK_SOURCE, label: "control node", args },
    { http: o.http ?? "127.0.0.1:0", udp: o.udp ?? "127.0.0.1:0" },
  );
  const log = node.proc;
  const httpAddr = `${node.http.host}:${node.http.port}`;
  const udpAddr = `${node.udp.host}:${node.udp.port}`;
  const baseUrl = `https://${httpAddr}`;
  const trust = { kind: "pin", pin: node.pin ?? "" } as const;
  const adminToken = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const code = await log.stop(signal);
    return signal === "SIGKILL" ? null : code;
  };
  return {
    dataDir,
    baseUrl,
    pin: node.pin ?? "",
    fetch: nodeFetch(trust),
    http: node.http,
    udp: node.udp,
    httpAddr,
    udpAddr,
    adminToken,
    admin: new AdminClient(baseUrl, adminToken, nodeFetch(trust)),
    proc: log.proc,
    log,
    stderr: () => log.lines.join("\n"),
    stop,
    client: (cred) => new ControlClient({ baseUrl, deviceId: cred.id, secret: cred.secret, trust }),
    async enroll(name) {
      const storeFlag = o.store === undefined ? [] : ["--store", o.store];
      const r = await pvrlink(["control", "enroll", name, "--data", dataDir, ...storeFlag]);
      if (r.code !== 0) throw new Error(`enroll ${name} failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout) as { id: string; name: string; secret: string };
    },
    async [Symbol.asyncDispose]() {
      await stop();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
