/** @module The recorder scenarios' stage: a control node in the wan namespace, recorders in NATed homes, all the compiled binary. */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recorderEnrollArgs, STEADY_STAT } from "../../../demo/recorder-args.ts";
import type { AccountingEntry, AdminDevice, AdminSession } from "../../../protocol/api-types.ts";
import { compiledBinary } from "../../support/compiled-binary.ts";
import { incomingLeftovers, spoolFiles } from "../../support/left-behind.ts";
import { createNetBed, type NetBed, type NetBedOptions, NODE_ADDR } from "../net-bed.ts";
import { readInNs, sysctl } from "../ns-admin.ts";
import { type NsProcess, waitFor } from "../run-in.ts";

/** The binary under test (test/support/compiled-binary.ts). */
export function binary(): string {
  return compiledBinary("The NAT scenarios");
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ScenarioRecorder {
  name: string;
  /** The host it runs on (1-based, `NetBed.host()`: a home's host, or an extra host on router 1's LAN). */
  home: number;
  id: string;
  dataDir: string;
  proc: NsProcess;
  runArgs: string[];
}

export interface ScenarioOptions extends NetBedOptions {
  /** Control node config overrides (control/control-config.ts keys). */
  nodeConfig?: Record<string, unknown>;
}

/** The parsed `pvrlink recorder status --json` output (the fields the scenarios look at). */
export interface StatusView {
  daemon: {
    mapped: string | null;
    registered: { address: string; port: number; at: number } | null;
    keepaliveIntervalSec: number;
    nodeReachable: boolean;
    lastAnswerAt: number | null;
    udpPort: number;
    triggers: { accepted: number; duplicates: number; rejected: number };
    inbox: { pending: number; waitingForLoad: boolean; failed: unknown[] };
  } | null;
}

/**
 * A net bed plus a node and recorders. Everything runs inside the bed's namespaces through `bed.runIn`, so
 * the bed's teardown kills it; `dispose` also removes the temporary data directories.
 */
export class Scenario implements AsyncDisposable {
  readonly recorders = new Map<string, ScenarioRecorder>();
  readonly adminToken = `adm_${crypto.randomUUID().replaceAll("-", "")}`;
  node!: NsProcess;
  http = "";
  udp = "";
  #nodeArgs: string[] = [];

  private constructor(
    readonly bed: NetBed,
    readonly root: string,
    readonly bin: string,
  ) {}

  static async start(o: ScenarioOptions = {}): Promise<Scenario> {
    const bin = binary();
    const { nodeConfig, ...bedOpts } = o;
    const bed = await createNetBed(bedOpts);
    const root = await mkdtemp(join(tmpdir(), "pvrlink-nat-"));
    const s = new Scenario(bed, root, bin);
    try {
      await mkdir(s.nodeDataDir, { recursive: true, mode: 0o700 });
      await mkdir(s.loadDir, { recursive: true });
      await writeFile(join(s.loadDir, "stat"), STEADY_STAT);
      const configPath = join(root, "node-config.json");
      await writeFile(
        configPath,
        JSON.stringify({ adminToken: s.adminToken, keepaliveIntervalSec: 5, ...nodeConfig }),
        { mode: 0o600 },
      );
      s.#nodeArgs = ["control", "serve", "--data", s.nodeDataDir, "--config", configPath];
      await s.#startNode(`${NODE_ADDR}:0`, `${NODE_ADDR}:0`);
      return s;
    } catch (err) {
      await s[Symbol.asyncDispose]().catch(() => {});
      throw err;
    }
  }

  get nodeDataDir(): string {
    return join(this.root, "node");
  }

  get loadDir(): string {
    return join(this.root, "steady-load");
  }

  get nodeUrl(): string {
    return `http://${this.http}`;
  }

  async #startNode(http: string, udp: string): Promise<void> {
    this.node = this.bed.runIn(this.bed.wan.ns, [this.bin, ...this.#nodeArgs, "--http", http, "--udp", udp], {
      label: "node",
    });
    const m = await this.node.waitForLine(/^\{"http":"([^"]+)","udp":"([^"]+)"\}/, { timeoutMs: 15_000 });
    this.http = m[1] as string;
    this.udp = m[2] as string;
  }

  /** Kills the node (SIGKILL: a crash) and starts it again on the same ports and data. */
  async restartNode(): Promise<void> {
    await this.node.kill("SIGKILL");
    // The ports were just freed by the dead process; a bind can still race its teardown, so retry briefly.
    await waitFor(
      "the node to start again on its old ports",
      async () => {
        try {
          await this.#startNode(this.http, this.udp);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  /** Runs one pvrlink command to completion inside namespace `ns`. */
  async run(ns: string, args: string[]): Promise<RunResult> {
    const p = this.bed.runIn(ns, [this.bin, ...args], { label: `pvrlink ${args[0]}` });
    const code = await p.exited;
    return { code, stdout: p.lines.join("\n"), stderr: p.errLines.join("\n") };
  }

  /** Runs a pvrlink command in recorder NAME's home with its data dir. */
  recorderRun(name: string, args: string[]): Promise<RunResult> {
    const r = this.recorder(name);
    return this.run(this.bed.host(r.home).ns, [...args, "--data", r.dataDir]);
  }

  /** Like recorderRun, but throws with the output unless the command exits 0. */
  async recorderOk(name: string, args: string[]): Promise<string> {
    const r = await this.recorderRun(name, args);
    if (r.code !== 0) throw new Error(`pvrlink ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  recorder(name: string): ScenarioRecorder {
    const r = this.recorders.get(name);
    if (!r) throw new RangeError(`No recorder ${name} in this scenario`);
    return r;
  }

  /**
   * An admin API call made from inside the wan namespace (the test process itself cannot reach the node's
   * address): a one-line fetch in a fresh Bun process, which prints the status and the body.
   */
  async admin<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const script =
      "const r=await fetch(process.env.U,{method:process.env.M,headers:{authorization:'Bearer '+process.env.T,'content-type':'application/json'},body:process.env.B||undefined});" +
      "console.log(r.status);console.log(await r.text())";
    const p = this.bed.runIn(this.bed.wan.ns, [process.execPath, "-e", script], {
      label: `admin ${path}`,
      env: {
        U: `${this.nodeUrl}/admin${path}`,
        M: init.method ?? "GET",
        T: this.adminToken,
        B: init.body === undefined ? "" : JSON.stringify(init.body),
      },
    });
    const code = await p.exited;
    const [status, ...body] = p.lines;
    if (code !== 0 || !status?.startsWith("2"))
      throw new Error(
        `admin ${path}: exit ${code} status ${status}: ${body.join("\n")} ${p.errLines.join(" ")}`,
      );
    return JSON.parse(body.join("\n")) as T;
  }

  devices(): Promise<AdminDevice[]> {
    return this.admin<AdminDevice[]>("/devices");
  }

  async device(name: string): Promise<AdminDevice> {
    const d = (await this.devices()).find((x) => x.name === name);
    if (!d) throw new Error(`The node does not know device ${name}`);
    return d;
  }

  accounting(): Promise<AccountingEntry[]> {
    return this.admin<AccountingEntry[]>("/accounting");
  }

  sessions(): Promise<AdminSession[]> {
    return this.admin<AdminSession[]>("/sessions");
  }

  /** Enrolls NAME from inside home N (an enrollment token redeemed over HTTP through the NAT), without a daemon. */
  async enroll(name: string, home: number): Promise<string> {
    const dataDir = join(this.root, name);
    const { token } = await this.admin<{ token: string }>("/enrollment-tokens", { method: "POST", body: {} });
    const r = await this.run(
      this.bed.host(home).ns,
      recorderEnrollArgs({ node: this.nodeUrl, udp: this.udp, token, name, dataDir }),
    );
    if (r.code !== 0) throw new Error(`recorder enroll ${name}: ${r.stderr || r.stdout}`);
    return dataDir;
  }

  /**
   * Enrolls NAME in home N and starts its daemon there (keepalive 5 s, the shortest the config allows; floor 1 s
   * so a lost mapping is repaired quickly), then waits until the node counts it connected and registered.
   */
  async addRecorder(name: string, home: number, args: string[] = []): Promise<ScenarioRecorder> {
    const dataDir = await this.enroll(name, home);
    const runArgs = [
      "recorder",
      "run",
      "--data",
      dataDir,
      "--listen",
      "0.0.0.0:0",
      "--keepalive",
      "5",
      "--keepalive-floor",
      "1",
      "--inbox-every",
      "3600",
      "--load-from",
      this.loadDir,
      ...args,
    ];
    const proc = this.bed.runIn(this.bed.host(home).ns, [this.bin, ...runArgs], { label: name });
    const m = await proc.waitForLine(/^\{"direct":"[^"]+","device":"([^"]+)"/, { timeoutMs: 15_000 });
    const rec: ScenarioRecorder = { name, home, id: m[1] as string, dataDir, proc, runArgs };
    this.recorders.set(name, rec);
    await this.waitRegistered(name);
    return rec;
  }

  /** Waits until the node has a fresh keepalive and a registration for NAME; returns what the admin API shows. */
  waitRegistered(
    name: string,
    check: (d: AdminDevice) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<AdminDevice> {
    return waitFor(
      `${name} connected and registered at the node`,
      async () => {
        const d = (await this.devices().catch(() => [])).find((x) => x.name === name);
        return d?.connected && d.registration !== null && check(d) ? d : undefined;
      },
      { timeoutMs, intervalMs: 150 },
    );
  }

  /** `pvrlink recorder status --json` in NAME's home: what the operator sees. */
  async status(name: string): Promise<StatusView> {
    return JSON.parse(await this.recorderOk(name, ["recorder", "status", "--json"])) as StatusView;
  }

  /** `pvrlink library list --json` of NAME. */
  async library(
    name: string,
  ): Promise<
    { id: string; name: string; sha256: string; size: number; path: string; sender: string | null }[]
  > {
    return JSON.parse(await this.recorderOk(name, ["library", "list", "--json"]));
  }

  /** Files left in NAME's incoming (temp) directory: none once a transfer has ended. */
  incomingLeftovers(name: string): Promise<string[]> {
    return incomingLeftovers(this.recorder(name).dataDir);
  }

  /** A file of n pseudo-random bytes under the scenario's directory (ordinary data: the direct route). */
  async randomFile(name: string, n: number): Promise<string> {
    const path = join(this.root, name);
    const bytes = new Uint8Array(n);
    for (let at = 0; at < n; at += 65_536)
      crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65_536)));
    await writeFile(path, bytes);
    return path;
  }

  /** Sizes of the node's spool files (`<transfer>.part`) now. */
  async spoolSizes(): Promise<number[]> {
    if (!existsSync(this.nodeDataDir)) return [];
    const paths = [...(await spoolFiles(this.nodeDataDir)).values()];
    return Promise.all(paths.map(async (p) => (await stat(p).catch(() => ({ size: 0 }))).size));
  }

  /**
   * Makes home N's router forget an idle TCP flow after `seconds` (many home routers drop idle TCP state after
   * minutes): a recorder's pooled, idle HTTP connection then no longer leads into the home.
   */
  async setTcpIdleTimeout(home: number, seconds: number): Promise<void> {
    await sysctl(this.bed.home(home).routerNs, {
      "net.netfilter.nf_conntrack_tcp_timeout_established": seconds,
    });
  }

  /**
   * Home N's router's TCP flows in state ESTABLISHED (raw /proc/net/nf_conntrack lines): a recorder with an
   * open HTTP connection to the node would show one here.
   */
  async establishedTcp(home: number): Promise<string[]> {
    const table = await readInNs(this.bed.home(home).routerNs, "/proc/net/nf_conntrack");
    return table.split("\n").filter((l) => / tcp +6 .* ESTABLISHED /.test(l));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.bed.destroy();
    } finally {
      await rm(this.root, { recursive: true, force: true });
    }
  }
}

/** Lines of a recorder's log from `since` that carry `event` (the daemon prints `... recorder <event> k=v`). */
export function events(rec: ScenarioRecorder, event: string, since = 0): string[] {
  return rec.proc.lines.slice(since).filter((l) => l.includes(` recorder ${event}`));
}
