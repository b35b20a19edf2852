/** @module Real processes for the recorder tests: enrolled recorders running their daemon (from source), log waits, polling. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess, HostPort } from "../../demo/child-process.ts";
import { startRecorderDaemon } from "../../demo/daemon-process.ts";
import { recorderEnrollArgs, STEADY_STAT } from "../../demo/recorder-args.ts";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { type NodeProcess, startNode } from "./control-node.ts";
import { PVRLINK_SOURCE, pvrlink } from "./pvrlink-source.ts";

export function tempDir(prefix = "pvrlink-rec-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A /proc/stat the daemon reads instead of the shared, busy machine's: constant counters read as "no CPU load". */
export function quietLoadDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "stat"), STEADY_STAT);
  return dir;
}

export interface RecorderProc extends AsyncDisposable {
  dataDir: string;
  direct: HostPort;
  device: string;
  name: string;
  /** The daemon as a process: its log lines, mark() and waitForLine(). */
  log: ChildProcess;
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
  // A short keepalive floor, so a test that loses the node sees the daemon repair its registration quickly.
  const daemon = await startRecorderDaemon(
    {
      command: PVRLINK_SOURCE,
      label: name,
      args: [
        "--data",
        dataDir,
        "--keepalive",
        "5",
        "--keepalive-floor",
        "0.5",
        "--load-from",
        load,
        ...(o.args ?? []),
      ],
    },
    "127.0.0.1:0",
  );
  const child = daemon.proc;
  const secret = (JSON.parse(readFileSync(join(dataDir, "credential.json"), "utf8")) as { secret: string })
    .secret;
  const stop = () => child.stop("SIGTERM");
  return {
    dataDir,
    direct: daemon.direct,
    device: daemon.id,
    name,
    log: child,
    secret,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The caller's direct connection to a recorder under the session grant its query got. */
export function dialRecorder(
  rec: RecorderProc,
  caller: ControlClient,
  s: { id: string; password: string; key: string; connectBy?: number; contactTicket?: string },
): Promise<DirectConnection> {
  return dialDirect({
    host: rec.direct.host,
    port: rec.direct.port,
    sessionId: s.id,
    password: s.password,
    key: s.key,
    callerId: caller.deviceId,
    // The node's contact ticket from the query answer, as pvrlink send passes it (issue 21 item 6).
    ...(s.contactTicket !== undefined && s.connectBy !== undefined
      ? { contact: { connectBy: s.connectBy, ticket: s.contactTicket } }
      : {}),
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
      await rec.log.waitForLine(/recorder registered/);
    }
    return stage;
  } catch (err) {
    await rec?.[Symbol.asyncDispose]();
    await node[Symbol.asyncDispose]();
    throw err;
  }
}
