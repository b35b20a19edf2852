/** @module A control node and recorders as child processes of one pvrlink program, on 127.0.0.1 or behind an argv prefix (a network namespace): the demo's, the e2e tests' and the NAT scenarios' stage. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomToken } from "../crypto/random-token.ts";
import { AdminClient } from "../protocol/admin-client.ts";
import { nodeFetch } from "../protocol/node-fetch.ts";
import type { ChildProcess, HostPort, RunResult } from "./child-process.ts";
import { runToEnd } from "./child-process.ts";
import { type DaemonStart, startNodeDaemon, startRecorderDaemon } from "./daemon-process.ts";
import { recorderEnrollArgs, STEADY_STAT } from "./recorder-args.ts";
import { waitFor } from "./wait-for.ts";

/** How to start this same program: the compiled binary alone, or the runtime plus the entry script. */
export function selfCommand(): string[] {
  // A compiled Bun binary serves its entry from the embedded /$bunfs filesystem; there the binary is the program.
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")
    ? [process.execPath]
    : [process.execPath, Bun.main];
}

export interface ClusterOptions {
  /** The program: selfCommand() in the demo, [dist/pvrlink-linux-x64] in the e2e tests. */
  command: string[];
  /** Control node config overrides (control/control-config.ts keys). */
  nodeConfig?: Record<string, unknown>;
  /** Every child's output line, for a verbose demo or a failing test's report. */
  echo?: (label: string, line: string) => void;
  /**
   * Read the recorders' CPU load from /proc (true) instead of a steady idle view (default): on a shared box
   * another job's load would make a callee busy at random, so scripted runs use the busy switch instead.
   */
  realLoad?: boolean;
  /** Where the node runs: an argv prefix (e.g. `ip netns exec NS`) and the address it binds (default 127.0.0.1). */
  nodeAt?: { wrap?: string[]; host?: string };
  /** How this process reaches the node's admin API (default: fetch, for a node it can reach directly). */
  adminFetch?: (pin: string) => typeof fetch;
  /** `recorder run` flags each recorder gets (default DEFAULT_RECORDER_FLAGS); its own `args` follow. */
  recorderFlags?: string[];
  /** A prefix for the node's ("node") or a recorder daemon's (its name) command, e.g. one that joins a cgroup. */
  wrap?: (child: string) => string[];
}

/** A keepalive every 5 s (the shortest the config allows) and an inbox check every 2 s: a brisk demo. */
export const DEFAULT_RECORDER_FLAGS = ["--keepalive", "5", "--inbox-every", "2"];

/** How one recorder's commands run: behind an argv prefix (e.g. `ip netns exec NS`), as another program, or both. */
export interface Program {
  wrap?: string[];
  command?: string[];
}

export interface RecorderOptions {
  /** Extra `pvrlink recorder run` flags, e.g. ["--advertise", "127.0.0.1:PORT"]. */
  args?: string[];
  /** This recorder's own load view (DIR/stat, DIR/pressure), e.g. a scripted load in a test. */
  loadDir?: string;
  /** An argv prefix that runs it (and its commands) elsewhere, e.g. `ip netns exec NS`. */
  wrap?: string[];
  /** Its direct listener (default 127.0.0.1:0). */
  listen?: string;
  /** This recorder's program when it is not the cluster's, e.g. the ARM64 binary under qemu-user. */
  command?: string[];
}

export interface Recorder {
  name: string;
  id: string;
  dataDir: string;
  /** The direct-channel listener the daemon bound. */
  direct: HostPort;
  proc: ChildProcess;
  /** The argv prefix it runs behind ([] here). */
  wrap: string[];
  /** The program its daemon and its commands (recorderRun) run as. */
  command: string[];
}

/** A control node plus recorders, all children of `command`, in one temporary directory removed at the end. */
export class Cluster implements AsyncDisposable {
  readonly recorders = new Map<string, Recorder>();
  node!: ChildProcess;
  http!: HostPort;
  udp!: HostPort;
  admin!: AdminClient;
  readonly adminToken = randomToken(24);
  /** The node certificate's pin, from its first line. */
  pin!: string;
  #nodeArgs: string[] = [];
  #nodeWrap: string[];

  private constructor(
    readonly root: string,
    readonly o: ClusterOptions,
  ) {
    this.#nodeWrap = o.nodeAt?.wrap ?? [];
  }

  get nodeUrl(): string {
    return `https://${this.http.host}:${this.http.port}`;
  }

  get nodeDataDir(): string {
    return join(this.root, "node");
  }

  /** The steady load view recorders read unless realLoad (DIR/stat, no DIR/pressure). */
  get loadDir(): string {
    return join(this.root, "steady-load");
  }

  static async start(o: ClusterOptions): Promise<Cluster> {
    const root = await mkdtemp(join(tmpdir(), "pvrlink-cluster-"));
    const c = new Cluster(root, o);
    try {
      await mkdir(c.nodeDataDir, { recursive: true, mode: 0o700 });
      await mkdir(c.loadDir, { recursive: true });
      await writeFile(join(c.loadDir, "stat"), STEADY_STAT);
      const configPath = join(root, "node-config.json");
      await writeFile(
        configPath,
        JSON.stringify({
          adminToken: c.adminToken,
          keepaliveIntervalSec: 5,
          rateLimitPerSec: 500,
          rateLimitBurst: 1000,
          udpRateLimitPerSec: 500,
          udpRateLimitBurst: 1000,
          // Recorders here register 127.0.0.1, which only an operator's explicit setting allows (issue 21 item 9).
          allowPrivateAddresses: true,
          ...o.nodeConfig,
        }),
        { mode: 0o600 },
      );
      c.#nodeArgs = ["--data", c.nodeDataDir, "--config", configPath];
      const host = o.nodeAt?.host ?? "127.0.0.1";
      await c.#startNode(`${host}:0`, `${host}:0`);
      return c;
    } catch (err) {
      await c[Symbol.asyncDispose]();
      throw err;
    }
  }

  async #startNode(http: string, udp: string): Promise<void> {
    const node = await startNodeDaemon(
      { ...this.#start("node", this.#nodeArgs), wrap: [...(this.o.wrap?.("node") ?? []), ...this.#nodeWrap] },
      { http, udp },
    );
    this.node = node.proc;
    this.http = node.http;
    this.udp = node.udp;
    this.pin = node.pin ?? "";
    const admin = this.o.adminFetch?.(this.pin) ?? nodeFetch({ kind: "pin", pin: this.pin });
    this.admin = new AdminClient(this.nodeUrl, this.adminToken, admin);
  }

  /** Stops a recorder's daemon (SIGTERM); it stays in the map so its data dir can still be read. */
  async stopRecorder(name: string): Promise<void> {
    await this.recorders.get(name)?.proc.stop();
  }

  /** Stops the node (SIGTERM, or SIGKILL for a crash) and starts it again on the same ports and data. */
  async restartNode(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.node.stop(signal);
    const http = `${this.http.host}:${this.http.port}`;
    const udp = `${this.udp.host}:${this.udp.port}`;
    // The ports were just freed by the dead process; a bind can still race its teardown, so retry briefly.
    await waitFor(
      "the node to start again on its old ports",
      () =>
        this.#startNode(http, udp).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  /** What every daemon start shares: the program, the echo, a label and its flags. */
  #start(label: string, args: string[]): DaemonStart {
    return { command: this.o.command, label, args, ...(this.o.echo ? { child: { echo: this.o.echo } } : {}) };
  }

  /** "host:port" of the node's UDP endpoint, as the CLI flags take it. */
  get udpAddr(): string {
    return `${this.udp.host}:${this.udp.port}`;
  }

  /** Runs one pvrlink command to completion (behind `wrap`, e.g. in a recorder's namespace, or as its own program). */
  async run(args: string[], env?: Record<string, string>, program: Program = {}): Promise<RunResult> {
    return runToEnd([...(program.wrap ?? []), ...(program.command ?? this.o.command), ...args], env);
  }

  /** Runs a command and throws with its output unless it exits 0. */
  async ok(args: string[], program: Program = {}): Promise<string> {
    const r = await this.run(args, undefined, program);
    if (r.code !== 0) throw new Error(`pvrlink ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Enrolls NAME with an enrollment token (as a user would) and starts its daemon; waits until the node sees it. */
  async addRecorder(name: string, ro: RecorderOptions = {}): Promise<Recorder> {
    const program = { wrap: ro.wrap ?? [], command: ro.command ?? this.o.command };
    const dataDir = await this.enroll(name, program);
    const runArgs = [
      "--data",
      dataDir,
      ...(this.o.recorderFlags ?? DEFAULT_RECORDER_FLAGS),
      ...(ro.loadDir !== undefined
        ? ["--load-from", ro.loadDir]
        : this.o.realLoad
          ? []
          : ["--load-from", this.loadDir]),
      ...(ro.args ?? []),
    ];
    const start = async (): Promise<Recorder> => {
      const daemon = await startRecorderDaemon(
        {
          ...this.#start(name, runArgs),
          ...program,
          // The daemon alone joins the cluster's per-child prefix (e.g. its cgroup); its commands keep the program's.
          wrap: [...(this.o.wrap?.(name) ?? []), ...program.wrap],
          // An emulated recorder (qemu-user) takes seconds, not milliseconds, to print its first line.
          ...(ro.command ? { timeoutMs: 60_000 } : {}),
        },
        ro.listen ?? "127.0.0.1:0",
      );
      const rec: Recorder = { name, dataDir, wrap: program.wrap, command: program.command, ...daemon };
      this.recorders.set(name, rec);
      await this.waitConnected(rec.id);
      return rec;
    };
    this.#starts.set(name, start);
    return start();
  }

  /** How each recorder's daemon was started, to start it again (restartRecorder). */
  readonly #starts = new Map<string, () => Promise<Recorder>>();

  /** Starts a stopped recorder's daemon again, same data dir and flags: the box switched back on. */
  async restartRecorder(name: string): Promise<Recorder> {
    const start = this.#starts.get(name);
    if (!start) throw new Error(`Cannot restart recorder ${name}: it was never started`);
    return start();
  }

  /** Enrolls NAME with an enrollment token into its own data dir, without starting a daemon; returns the dir. */
  async enroll(name: string, program: Program = {}): Promise<string> {
    const dataDir = join(this.root, name);
    const { token } = await this.admin.enrollmentToken();
    await this.ok(
      recorderEnrollArgs({ node: this.nodeUrl, udp: this.udpAddr, token, pin: this.pin, name, dataDir }),
      program,
    );
    return dataDir;
  }

  /** Waits until the node counts the device connected (fresh keepalive) and registered. */
  async waitConnected(id: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `device ${id} to connect and register`,
      async () => {
        const d = (await this.admin.devices().catch(() => [])).find((x) => x.id === id);
        return d?.connected && d.registration !== null;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** `pvrlink <args> --data <recorder's dir>`. */
  recorderRun(name: string, args: string[], env?: Record<string, string>): Promise<RunResult> {
    const r = this.recorder(name);
    return this.run([...args, "--data", r.dataDir], env, r);
  }

  /** The recorder started as NAME; throws when there is none. */
  recorder(name: string): Recorder {
    const r = this.recorders.get(name);
    if (!r) throw new Error(`no recorder ${name}`);
    return r;
  }

  /** CALLEE's device-held allow-list gets CALLER (`pvrlink permit add`), as its owner would do it. */
  async permit(callee: string, caller: string): Promise<void> {
    const r = await this.recorderRun(callee, ["permit", "add", caller]);
    if (r.code !== 0)
      throw new Error(`permit add ${caller} on ${callee} exited ${r.code}: ${r.stderr || r.stdout}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...this.recorders.values()].map((r) => r.proc.stop()));
    await this.node?.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
