/** @module Real processes for the recorder tests: enrolled recorders running their daemon (from source), log waits, polling. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ChildProcess, firstJson, type HostPort, hostPort } from "../../demo/child-process.ts";
import { recorderEnrollArgs, STEADY_STAT } from "../../demo/recorder-args.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { PVRLINK_SOURCE, pvrlink } from "../support/pvrlink-source.ts";

export function tempDir(prefix = "pvrlink-rec-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A /proc/stat the daemon reads instead of the shared, busy machine's: constant counters read as "no CPU load". */
export function quietLoadDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "stat"), STEADY_STAT);
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
    const e = await pvrlink(
      recorderEnrollArgs({ node: node.baseUrl, udp: node.udpAddr, token, pin: node.pin, name, dataDir }),
    );
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

/** The caller's direct connection to a recorder under the session grant its query got. */
export function dialRecorder(
  rec: RecorderProc,
  caller: ControlClient,
  s: { id: string; password: string; key: string },
): Promise<DirectConnection> {
  return dialDirect({
    host: rec.direct.host,
    port: rec.direct.port,
    sessionId: s.id,
    password: s.password,
    key: s.key,
    callerId: caller.deviceId,
  });
}

/** A node, the caller "alice" enrolled on it, and the callee recorder "grandma" running its daemon. */
export interface CalleeStage extends AsyncDisposable {
  node: NodeProcess;
  rec: RecorderProc;
  alice: ControlClient;
  aliceCred: { id: string; name: string; secret: string };
}

/**
 * Starts the stage most recorder tests share. With permitAlice (default) grandma permits alice and the test
 * starts once the daemon has registered, so a query reaches it. Disposing stops both and removes their data.
 */
export async function startCalleeStage(
  o: { nodeConfig?: Record<string, unknown>; recorderArgs?: string[]; permitAlice?: boolean } = {},
): Promise<CalleeStage> {
  const node = await startNode({
    dataDir: tempDir("pvrlink-node-"),
    ...(o.nodeConfig ? { config: o.nodeConfig } : {}),
  });
  let rec: RecorderProc | undefined;
  try {
    const aliceCred = await node.enroll("alice");
    rec = await startRecorder(node, "grandma", o.recorderArgs ? { args: o.recorderArgs } : {});
    const stage: CalleeStage = {
      node,
      rec,
      alice: node.client(aliceCred),
      aliceCred,
      async [Symbol.asyncDispose]() {
        await stage.rec[Symbol.asyncDispose]();
        await stage.node[Symbol.asyncDispose]();
      },
    };
    if (o.permitAlice !== false) {
      const permit = await pvrlink(["permit", "add", "alice", "--data", rec.dataDir]);
      if (permit.code !== 0) throw new Error(`permit add alice: ${permit.stderr}`);
      await rec.log.waitFor(/recorder registered/);
    }
    return stage;
  } catch (err) {
    await rec?.[Symbol.asyncDispose]();
    await node[Symbol.asyncDispose]();
    throw err;
  }
}
