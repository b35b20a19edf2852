/** @module Real processes for the recorder tests: enrolled recorders running their daemon (from source), log waits, polling. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ChildProcess, firstJson, type HostPort, hostPort } from "../../firmware/demo/child-process.ts";
import type { NodeProcess } from "../support/control-node.ts";
import { PVRLINK_SOURCE, pvrlink } from "../support/pvrlink-source.ts";

export function tempDir(prefix = "pvrlink-rec-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A /proc/stat the daemon reads instead of the shared, busy machine's: constant counters read as "no CPU load". */
export function quietLoadDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "stat"), "cpu  100 0 100 10000 0 0 0 0 0 0\ncpu0 100 0 100 10000 0 0 0 0 0 0\n");
  return dir;
}

/** A process's log lines with the waits the recorder tests use (an index to search from, a 10 s deadline). */
export interface ProcessLog {
  readonly lines: string[];
  readonly length: number;
  /** Resolves with the first line at index >= from that matches; rejects at the deadline or when the process exits. */
  waitFor(re: RegExp, o?: { from?: number; timeoutMs?: number }): Promise<string>;
}

function processLog(p: ChildProcess): ProcessLog {
  return {
    lines: p.lines,
    get length() {
      return p.lines.length;
    },
    waitFor: (re, o = {}) => p.waitForLine(re, o.timeoutMs ?? 10_000, o.from ?? 0),
  };
}

export interface RecorderProc extends AsyncDisposable {
  dataDir: string;
  direct: HostPort;
  device: string;
  name: string;
  log: ProcessLog;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The daemon's credential secret (the test plays the node when forging triggers). */
  secret: string;
  stop(): Promise<number>;
}

/** Enrolls a recorder with a token and starts `pvrlink recorder run` on 127.0.0.1 port 0. */
export async function startRecorder(
  node: NodeProcess,
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
      node.udpAddr,
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
  const child = new ChildProcess(name, [
    ...PVRLINK_SOURCE,
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
  ]);
  let first: { direct: string; device: string; name: string };
  try {
    first = await firstJson(child, "direct");
  } catch (err) {
    await child.stop("SIGKILL");
    throw new Error(`${(err as Error).message}\noutput:\n${child.lines.join("\n")}`);
  }
  const secret = (JSON.parse(readFileSync(join(dataDir, "credential.json"), "utf8")) as { secret: string })
    .secret;
  const stop = () => child.stop("SIGTERM");
  return {
    dataDir,
    direct: hostPort(first.direct),
    device: first.device,
    name: first.name,
    log: processLog(child),
    proc: child.proc,
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
