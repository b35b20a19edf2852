/** @module A control node and recorders as child processes of one pvrlink program on 127.0.0.1: the demo's and the e2e tests' stage. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomToken } from "../crypto/random-token.ts";
import { AdminClient } from "../protocol/control-client.ts";
import {
  ChildProcess,
  firstJson,
  type HostPort,
  hostPort,
  type RunResult,
  runToEnd,
} from "./child-process.ts";
import { recorderEnrollArgs, STEADY_STAT } from "./recorder-args.ts";

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
  /** A prefix for the node's ("node") or a recorder daemon's (its name) command, e.g. one that joins a cgroup. */
  wrap?: (child: string) => string[];
}

export interface RecorderOptions {
  /** Extra `pvrlink recorder run` flags, e.g. ["--advertise", "127.0.0.1:PORT"]. */
  args?: string[];
  /** This recorder's own load view (DIR/stat, DIR/pressure), e.g. a scripted load in a test. */
  loadDir?: string;
}

export interface Recorder {
  name: string;
  id: string;
  dataDir: string;
  /** The direct-channel listener the daemon bound. */
  direct: HostPort;
  proc: ChildProcess;
  runArgs: string[];
}

/** A control node plus recorders, all children of `command`, in one temporary directory removed at the end. */
export class Cluster implements AsyncDisposable {
  readonly recorders = new Map<string, Recorder>();
  node!: ChildProcess;
  http!: HostPort;
  udp!: HostPort;
  admin!: AdminClient;
  readonly adminToken = randomToken(24);
  #nodeArgs: string[] = [];

  private constructor(
    readonly root: string,
    readonly o: ClusterOptions,
  ) {}

  get nodeUrl(): string {
    return `http://${this.http.host}:${this.http.port}`;
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
          ...o.nodeConfig,
        }),
        { mode: 0o600 },
      );
      c.#nodeArgs = ["control", "serve", "--data", c.nodeDataDir, "--config", configPath];
      await c.#startNode("127.0.0.1:0", "127.0.0.1:0");
      return c;
    } catch (err) {
      await c[Symbol.asyncDispose]();
      throw err;
    }
  }

  async #startNode(http: string, udp: string): Promise<void> {
    this.node = new ChildProcess(
      "node",
      [...(this.o.wrap?.("node") ?? []), ...this.o.command, ...this.#nodeArgs, "--http", http, "--udp", udp],
      this.o.echo,
    );
    const bound = await firstJson<{ http: string; udp: string }>(this.node, "http");
    this.http = hostPort(bound.http);
    this.udp = hostPort(bound.udp);
    this.admin = new AdminClient(this.nodeUrl, this.adminToken);
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
    for (let i = 0; ; i++) {
      try {
        await this.#startNode(http, udp);
        return;
      } catch (err) {
        if (i >= 20) throw err;
        await Bun.sleep(100);
      }
    }
  }

  /** Runs one pvrlink command to completion. */
  async run(args: string[], env?: Record<string, string>): Promise<RunResult> {
    return runToEnd([...this.o.command, ...args], env);
  }

  /** Runs a command and throws with its output unless it exits 0. */
  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`pvrlink ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Enrolls NAME with an enrollment token (as a user would) and starts its daemon; waits until the node sees it. */
  async addRecorder(name: string, ro: RecorderOptions = {}): Promise<Recorder> {
    const dataDir = await this.enroll(name);
    const runArgs = [
      "recorder",
      "run",
      "--data",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--keepalive",
      "5",
      "--inbox-every",
      "2",
      ...(ro.loadDir !== undefined
        ? ["--load-from", ro.loadDir]
        : this.o.realLoad
          ? []
          : ["--load-from", this.loadDir]),
      ...(ro.args ?? []),
    ];
    const rec = await this.#startRecorder(name, dataDir, runArgs);
    this.recorders.set(name, rec);
    await this.waitConnected(rec.id);
    return rec;
  }

  /** Enrolls NAME with an enrollment token into its own data dir, without starting a daemon; returns the dir. */
  async enroll(name: string): Promise<string> {
    const dataDir = join(this.root, name);
    const { token } = await this.admin.enrollmentToken();
    const udp = `${this.udp.host}:${this.udp.port}`;
    await this.ok(recorderEnrollArgs({ node: this.nodeUrl, udp, token, name, dataDir }));
    return dataDir;
  }

  async #startRecorder(name: string, dataDir: string, runArgs: string[]): Promise<Recorder> {
    const argv = [...(this.o.wrap?.(name) ?? []), ...this.o.command, ...runArgs];
    const proc = new ChildProcess(name, argv, this.o.echo);
    const first = await firstJson<{ direct: string; device: string; name: string }>(proc, "direct");
    return { name, id: first.device, dataDir, direct: hostPort(first.direct), proc, runArgs };
  }

  /** Waits until the node counts the device connected (fresh keepalive) and registered. */
  async waitConnected(id: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = (await this.admin.devices().catch(() => [])).find((x) => x.id === id);
      if (d?.connected && d.registration !== null) return;
      if (Date.now() > deadline) throw new Error(`device ${id} did not connect within ${timeoutMs} ms`);
      await Bun.sleep(100);
    }
  }

  /** `pvrlink <args> --data <recorder's dir>`. */
  recorderRun(name: string, args: string[], env?: Record<string, string>): Promise<RunResult> {
    return this.run([...args, "--data", this.recorder(name).dataDir], env);
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
