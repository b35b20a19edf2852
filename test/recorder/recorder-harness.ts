/** @module Real processes for the recorder tests: a control node on fixed-or-0 ports, enrolled recorders running their daemon, log waits. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { AdminClient, ControlClient } from "../../protocol/control-client.ts";

export const MAIN = join(import.meta.dir, "../../firmware/main.ts");

export function tempDir(prefix = "pvrlink-rec-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Collects a child's stdout lines and lets a test wait for one that matches, with a deadline. */
export class LineLog {
  readonly lines: string[] = [];
  #waiters = new Set<() => void>();
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of stream) {
        buf += dec.decode(chunk, { stream: true });
        let i = buf.indexOf("\n");
        while (i >= 0) {
          this.lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
        }
        for (const w of this.#waiters) w();
      }
      this.#ended = true;
      for (const w of this.#waiters) w();
    })();
  }

  /** Resolves with the first line at index >= from that matches; rejects at the deadline or when the stream ends. */
  waitFor(re: RegExp, o: { from?: number; timeoutMs?: number } = {}): Promise<string> {
    const from = o.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.slice(from).find((l) => re.test(l));
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (this.#ended) {
          done();
          reject(new Error(`stream ended without ${re}:\n${this.lines.slice(-30).join("\n")}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${re}:\n${this.lines.slice(-30).join("\n")}`));
      }, o.timeoutMs ?? 10_000);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  get length(): number {
    return this.lines.length;
  }
}

export interface NodeProc extends AsyncDisposable {
  dataDir: string;
  http: string;
  udp: string;
  baseUrl: string;
  admin: AdminClient;
  stderr: LineLog;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stop(signal?: NodeJS.Signals): Promise<void>;
  client(cred: { id: string; secret: string }): ControlClient;
}

/** `pvrlink control serve` on the given addresses (default port 0); reads its first stdout line. */
export async function startNode(
  dataDir: string,
  http = "127.0.0.1:0",
  udp = "127.0.0.1:0",
  config?: Record<string, unknown>,
): Promise<NodeProc> {
  const extra: string[] = [];
  if (config) {
    const file = join(dataDir, "test-config.json");
    writeFileSync(file, JSON.stringify(config));
    extra.push("--config", file);
  }
  const proc = Bun.spawn(
    ["bun", MAIN, "control", "serve", "--data", dataDir, "--http", http, "--udp", udp, ...extra],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const out = new LineLog(proc.stdout);
  const stderr = new LineLog(proc.stderr);
  const first = JSON.parse(await out.waitFor(/^\{/, { timeoutMs: 15_000 })) as { http: string; udp: string };
  const baseUrl = `http://${first.http}`;
  const admin = new AdminClient(baseUrl, readFileSync(join(dataDir, "admin-token"), "utf8").trim());
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await proc.exited;
  };
  return {
    dataDir,
    http: first.http,
    udp: first.udp,
    baseUrl,
    admin,
    stderr,
    proc,
    stop,
    client: (cred) => new ControlClient({ baseUrl, deviceId: cred.id, secret: cred.secret }),
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** Runs a pvrlink command to completion. */
export async function pvrlink(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(["bun", MAIN, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** Enrolls a device by name directly in the node's database (the operator's `pvrlink control enroll`). */
export async function enrollDevice(
  node: NodeProc,
  name: string,
): Promise<{ id: string; name: string; secret: string }> {
  const r = await pvrlink(["control", "enroll", name, "--data", node.dataDir]);
  if (r.code !== 0) throw new Error(`enroll ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; name: string; secret: string };
}

/** A /proc/stat the daemon reads instead of the shared, busy machine's: constant counters read as "no CPU load". */
export function quietLoadDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "stat"), "cpu  100 0 100 10000 0 0 0 0 0 0\ncpu0 100 0 100 10000 0 0 0 0 0 0\n");
  return dir;
}

export interface RecorderProc extends AsyncDisposable {
  dataDir: string;
  direct: { host: string; port: number };
  device: string;
  name: string;
  log: LineLog;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The daemon's credential secret (the test plays the node when forging triggers). */
  secret: string;
  stop(): Promise<number>;
}

/** Enrolls a recorder with a token and starts `pvrlink recorder run` on 127.0.0.1 port 0. */
export async function startRecorder(
  node: NodeProc,
  name: string,
  o: { dataDir?: string; args?: string[]; enroll?: boolean } = {},
): Promise<RecorderProc> {
  const dataDir = o.dataDir ?? tempDir();
  if (o.enroll !== false) {
    const tok = await pvrlink(["control", "token", "--data", node.dataDir]);
    const token = (JSON.parse(tok.stdout) as { token: string }).token;
    const e = await pvrlink([
      "recorder",
      "enroll",
      "--node",
      node.baseUrl,
      "--udp",
      node.udp,
      "--token",
      token,
      "--name",
      name,
      "--data",
      dataDir,
    ]);
    if (e.code !== 0) throw new Error(`recorder enroll: ${e.stderr}`);
  }
  const load = quietLoadDir(join(dataDir, "load"));
  const proc = Bun.spawn(
    [
      "bun",
      MAIN,
      "recorder",
      "run",
      "--data",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--keepalive",
      "5",
      "--keepalive-floor",
      "0.5",
      "--load-from",
      load,
      ...(o.args ?? []),
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const log = new LineLog(proc.stdout);
  const errs = new LineLog(proc.stderr);
  let first: { direct: string; device: string; name: string };
  try {
    first = JSON.parse(await log.waitFor(/^\{"direct"/, { timeoutMs: 15_000 }));
  } catch (err) {
    proc.kill();
    throw new Error(`${(err as Error).message}\nstderr:\n${errs.lines.join("\n")}`);
  }
  const i = first.direct.lastIndexOf(":");
  const secret = (JSON.parse(readFileSync(join(dataDir, "credential.json"), "utf8")) as { secret: string })
    .secret;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    return proc.exited;
  };
  return {
    dataDir,
    direct: { host: first.direct.slice(0, i), port: Number(first.direct.slice(i + 1)) },
    device: first.device,
    name: first.name,
    log,
    proc,
    secret,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls cond until it holds or the deadline passes (never a fixed sleep). */
export async function until<T>(
  cond: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}
