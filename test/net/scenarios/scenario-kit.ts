/** @module The recorder scenarios' stage: a control node in the wan namespace, recorders in NATed homes, all the compiled binary. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ChildProcess, type RunResult, runToEnd } from "../../../demo/child-process.ts";
import { Cluster, type Recorder } from "../../../demo/cluster.ts";
import { waitFor } from "../../../demo/wait-for.ts";
import type { AccountingEntry, AdminDevice } from "../../../protocol/api-types.ts";
import { compiledBinary } from "../../support/compiled-binary.ts";
import { incomingLeftovers, spoolSizes } from "../../support/left-behind.ts";
import { createNetBed, type NetBed, type NetBedOptions, NODE_ADDR } from "../net-bed.ts";
import { readInNs, sysctl } from "../ns-admin.ts";
import { inNamespace } from "../run-in.ts";

/** The binary under test (test/support/compiled-binary.ts). */
export function binary(): string {
  return compiledBinary("The NAT scenarios");
}

export interface ScenarioRecorder extends Recorder {
  /** The host it runs on (1-based, `NetBed.host()`: a home's host, or an extra host on router 1's LAN). */
  home: number;
}

export interface ScenarioOptions extends NetBedOptions {
  /** Control node config overrides (control/control-config.ts keys). */
  nodeConfig?: Record<string, unknown>;
}

/**
 * The scenarios' recorder flags: keepalive 5 s (the shortest the config allows), floor 1 s so a lost mapping is
 * repaired quickly, and no periodic inbox check (a trigger must bring the pickup).
 */
const SCENARIO_RECORDER_FLAGS = ["--keepalive", "5", "--keepalive-floor", "1", "--inbox-every", "3600"];

/**
 * fetch() from inside namespace `ns` (this process cannot reach the node's address): a one-line fetch in a
 * fresh Bun process there, which prints the status and the body. Enough for the admin API's JSON calls.
 */
/** protocol/node-fetch.ts, imported by the one-line fetch that runs inside a namespace. */
const NODE_FETCH_MODULE = join(import.meta.dir, "../../../protocol/node-fetch.ts");

function fetchInNamespace(ns: string): (pin: string) => typeof fetch {
  // The node's certificate is pinned exactly as a recorder pins it (protocol/node-fetch.ts), inside the namespace.
  const script =
    "const{nodeFetch}=await import(process.env.NF);const f=nodeFetch({kind:'pin',pin:process.env.P});" +
    "const h=JSON.parse(process.env.H);const r=await f(process.env.U,{method:process.env.M,headers:h,body:process.env.B||undefined});" +
    "console.log(r.status);console.log(await r.text())";
  return (pin) => {
    const f = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
      const r = await runToEnd([...inNamespace(ns), process.execPath, "-e", script], {
        NF: NODE_FETCH_MODULE,
        P: pin,
        U: String(input),
        M: init.method ?? "GET",
        H: JSON.stringify(Object.fromEntries(new Headers(init.headers).entries())),
        B: typeof init.body === "string" ? init.body : "",
      });
      const nl = r.stdout.indexOf("\n");
      if (r.code !== 0 || nl < 0)
        throw new Error(`fetch ${String(input)} in ${ns}: exit ${r.code}: ${r.stderr}`);
      const status = Number(r.stdout.slice(0, nl));
      const body = r.stdout.slice(nl + 1).replace(/\n$/, "");
      return new Response(status === 204 || status === 304 ? null : body, { status });
    };
    return f as typeof fetch;
  };
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
 * A net bed plus the shared Cluster (demo/cluster.ts): the node in the wan namespace on NODE_ADDR, each
 * recorder in its home's LAN namespace, all the compiled binary. Disposing stops them and removes the data
 * directories, then tears the bed down.
 */
export class Scenario implements AsyncDisposable {
  readonly recorders = new Map<string, ScenarioRecorder>();

  private constructor(
    readonly bed: NetBed,
    readonly cluster: Cluster,
  ) {}

  static async start(o: ScenarioOptions = {}): Promise<Scenario> {
    const bin = binary();
    const { nodeConfig, ...bedOpts } = o;
    const bed = await createNetBed(bedOpts);
    try {
      const cluster = await Cluster.start({
        command: [bin],
        ...(nodeConfig ? { nodeConfig } : {}),
        nodeAt: { wrap: inNamespace(bed.wan.ns), host: NODE_ADDR },
        adminFetch: fetchInNamespace(bed.wan.ns),
        recorderFlags: SCENARIO_RECORDER_FLAGS,
      });
      return new Scenario(bed, cluster);
    } catch (err) {
      await bed.destroy().catch(() => {});
      throw err;
    }
  }

  get node(): ChildProcess {
    return this.cluster.node;
  }

  /** The node's HTTP listener, "host:port". */
  get http(): string {
    return `${this.cluster.http.host}:${this.cluster.http.port}`;
  }

  /** The node's UDP endpoint, "host:port". */
  get udp(): string {
    return this.cluster.udpAddr;
  }

  get root(): string {
    return this.cluster.root;
  }

  /** Kills the node (SIGKILL: a crash) and starts it again on the same ports and data. */
  restartNode(): Promise<void> {
    return this.cluster.restartNode("SIGKILL");
  }

  /** Runs one pvrlink command to completion inside namespace `ns`. */
  run(ns: string, args: string[]): Promise<RunResult> {
    return this.cluster.run(args, undefined, { wrap: inNamespace(ns) });
  }

  /** Runs a pvrlink command in recorder NAME's home with its data dir. */
  recorderRun(name: string, args: string[]): Promise<RunResult> {
    return this.cluster.recorderRun(name, args);
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

  devices(): Promise<AdminDevice[]> {
    return this.cluster.admin.devices();
  }

  async device(name: string): Promise<AdminDevice> {
    const d = (await this.devices()).find((x) => x.name === name);
    if (!d) throw new Error(`The node does not know device ${name}`);
    return d;
  }

  accounting(): Promise<AccountingEntry[]> {
    return this.cluster.admin.accounting();
  }

  /** Enrolls NAME from inside home N (an enrollment token redeemed over HTTP through the NAT), without a daemon. */
  enroll(name: string, home: number): Promise<string> {
    return this.cluster.enroll(name, { wrap: inNamespace(this.bed.host(home).ns) });
  }

  /**
   * Enrolls NAME in home N and starts its daemon there, listening on all its addresses, then waits until the
   * node counts it connected and registered.
   */
  async addRecorder(name: string, home: number, args: string[] = []): Promise<ScenarioRecorder> {
    const r = await this.cluster.addRecorder(name, {
      wrap: inNamespace(this.bed.host(home).ns),
      listen: "0.0.0.0:0",
      args,
    });
    const rec: ScenarioRecorder = { ...r, home };
    this.recorders.set(name, rec);
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
  spoolSizes(): Promise<number[]> {
    return spoolSizes(this.cluster.nodeDataDir);
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
      await this.cluster[Symbol.asyncDispose]();
    } finally {
      await this.bed.destroy();
    }
  }
}

/** Lines of a recorder's log from `since` that carry `event` (the daemon prints `... recorder <event> k=v`). */
export function events(rec: ScenarioRecorder, event: string, since = 0): string[] {
  return rec.proc.lines.slice(since).filter((l) => l.includes(` recorder ${event}`));
}
