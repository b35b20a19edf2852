/** @module A clustered control node on one machine for the compiled binary: PostgreSQL, nats-server, s3rver, HTTP and UDP role nodes, and real recorder daemons whose configs list every endpoint. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildProcess, firstJson, type HostPort, hostPort, runToEnd } from "../../demo/child-process.ts";
import { startRecorderDaemon } from "../../demo/daemon-process.ts";
import { STEADY_STAT } from "../../demo/recorder-args.ts";
import { compiledBinary } from "../support/compiled-binary.ts";
import { NatsServer } from "../support/nats-server.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { S3Server } from "../support/s3-server.ts";

/** Seconds between keepalives, nodes and recorders alike: the shortest a recorder's config allows. */
export const KEEPALIVE_SECONDS = 5;
/** The S3 spool's part size: small, so a test-sized upload spans several stored parts. */
export const PART_BYTES = 64 * 1024;

export interface RoleNode {
  role: "http" | "udp";
  proc: ChildProcess;
  http: HostPort | null;
  udp: HostPort | null;
  nodeId: string;
}

export interface StageRecorder {
  name: string;
  id: string;
  secret: string;
  dataDir: string;
  proc: ChildProcess;
  direct: HostPort;
}

const addr = (h: HostPort | null): string => `${h!.host}:${h!.port}`;

/** Everything a cluster test needs, each a real process; disposing kills every one of them. */
export class ClusterStage implements AsyncDisposable {
  readonly binary = compiledBinary("Cluster tests");
  readonly root = mkdtempSync(join(tmpdir(), "pvrlink-cluster-rec-"));
  readonly nodes: RoleNode[] = [];
  readonly recorders = new Map<string, StageRecorder>();
  readonly #procs: ChildProcess[] = [];
  pg!: PostgresServer;
  nats!: NatsServer;
  s3!: S3Server;
  store!: string;
  #nodeConfig!: string;

  static async start(): Promise<ClusterStage> {
    const s = new ClusterStage();
    try {
      [s.pg, s.nats, s.s3] = await Promise.all([
        PostgresServer.start(),
        NatsServer.start(),
        S3Server.start(),
      ]);
      s.store = await s.pg.freshDatabase();
      s.#nodeConfig = join(s.root, "node-config.json");
      writeFileSync(
        s.#nodeConfig,
        JSON.stringify({
          ...s.s3.spoolConfig("unused"),
          spool: null,
          spoolPartBytes: PART_BYTES,
          keepaliveIntervalSec: KEEPALIVE_SECONDS,
          rateLimitPerSec: 500,
          rateLimitBurst: 1000,
          udpRateLimitPerSec: 500,
          udpRateLimitBurst: 1000,
        }),
      );
      mkdirSync(join(s.root, "steady-load"));
      writeFileSync(join(s.root, "steady-load", "stat"), STEADY_STAT);
      return s;
    } catch (err) {
      await s[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** `control serve --role ROLE` against the shared store, bus and bucket; its own data dir, as on its own machine. */
  async startNode(role: "http" | "udp"): Promise<RoleNode> {
    const dir = mkdtempSync(join(this.root, `${role}-`));
    const proc = new ChildProcess(`${role} node`, [
      this.binary,
      ...["control", "serve", "--role", role, "--store", this.store, "--nats", this.nats.url],
      ...["--data", dir, "--config", this.#nodeConfig, "--spool", `s3://${this.s3.bucket}/cluster`],
      ...["--insecure-http", "--allow-private-addresses", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"],
    ]);
    this.#procs.push(proc);
    const first = await firstJson<{ http: string | null; udp: string | null; nodeId: string }>(
      proc,
      "role",
      30_000,
    );
    const node: RoleNode = {
      role,
      proc,
      http: first.http ? hostPort(first.http) : null,
      udp: first.udp ? hostPort(first.udp) : null,
      nodeId: first.nodeId,
    };
    this.nodes.push(node);
    return node;
  }

  /** `pvrlink ARGS` with the compiled binary, to its end. */
  run(args: string[]): ReturnType<typeof runToEnd> {
    return runToEnd([this.binary, ...args]);
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`pvrlink ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /**
   * Enrolls NAME in the store (`control enroll`), imports the credential (`recorder enroll --credential`) naming
   * the first HTTP and UDP node, writes a config listing the others as fallbacks, and starts its daemon.
   */
  async addRecorder(name: string, http: RoleNode[], udp: RoleNode[]): Promise<StageRecorder> {
    const url = (n: RoleNode) => `http://${addr(n.http)}`;
    const dataDir = join(this.root, name);
    mkdirSync(dataDir, { mode: 0o700 });
    const printed = await this.ok([
      ...["control", "enroll", name, "--store", this.store, "--data", join(this.root, "enroll")],
      ...["--public-url", url(http[0]!), "--insecure-http"],
    ]);
    const cred = JSON.parse(printed) as { id: string; secret: string };
    const credFile = join(this.root, `${name}.credential.json`);
    writeFileSync(credFile, printed, { mode: 0o600 });
    await this.ok([
      ...["recorder", "enroll", "--node", url(http[0]!), "--udp", addr(udp[0]!.udp)],
      ...["--credential", credFile, "--data", dataDir],
    ]);
    writeFileSync(
      join(dataDir, "config.json"),
      JSON.stringify({
        keepaliveSeconds: KEEPALIVE_SECONDS,
        nodeUdpFallbacks: udp.slice(1).map((n) => addr(n.udp)),
        nodeUrlFallbacks: http.slice(1).map(url),
      }),
    );
    const rec = await this.#startDaemon(name, dataDir);
    const r: StageRecorder = { name, id: cred.id, secret: cred.secret, dataDir, ...rec };
    this.recorders.set(name, r);
    return r;
  }

  async #startDaemon(name: string, dataDir: string): Promise<{ proc: ChildProcess; direct: HostPort }> {
    const daemon = await startRecorderDaemon(
      {
        command: [this.binary],
        label: name,
        args: ["--data", dataDir, "--inbox-every", "2", "--load-from", join(this.root, "steady-load")],
        timeoutMs: 30_000,
        ...(process.env.PVRLINK_E2E_VERBOSE
          ? { child: { echo: (l, s) => console.error(`[${l}] ${s}`) } }
          : {}),
      },
      "127.0.0.1:0",
    );
    this.#procs.push(daemon.proc);
    return daemon;
  }

  /** Starts a stopped recorder's daemon again on its data dir: its box switched back on. */
  async restartRecorder(name: string): Promise<StageRecorder> {
    const r = this.recorders.get(name);
    if (!r) throw new Error(`no recorder ${name}`);
    const next = { ...r, ...(await this.#startDaemon(name, r.dataDir)) };
    this.recorders.set(name, next);
    return next;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop("SIGKILL")));
    await this.s3?.[Symbol.asyncDispose]();
    await this.nats?.[Symbol.asyncDispose]();
    await this.pg?.[Symbol.asyncDispose]();
    rmSync(this.root, { recursive: true, force: true });
  }
}
