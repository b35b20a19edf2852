/** @module pvrlink's two daemons (control node, recorder) started as child processes and read until they say where they listen. */
import { type ChildOptions, ChildProcess, firstJson, type HostPort, hostPort } from "./child-process.ts";

export interface DaemonStart {
  /** The program: the compiled binary, or the runtime plus bin/pvrlink.ts. */
  command: readonly string[];
  /** An argv prefix that runs it elsewhere, e.g. `ip netns exec NS`; none runs it here. */
  wrap?: readonly string[];
  /** Its label in logs and errors. */
  label: string;
  /** Flags after the command's own (its --data, --config, load view, intervals...). */
  args: readonly string[];
  child?: ChildOptions;
  /** How long to wait for the first line that names the bound addresses (default 15 s). */
  timeoutMs?: number;
}

export interface NodeDaemon {
  proc: ChildProcess;
  http: HostPort;
  udp: HostPort;
  /** The node certificate's pin recorders check; absent behind --insecure-http or with a CA certificate. */
  pin?: string;
}

export interface RecorderDaemon {
  proc: ChildProcess;
  /** The device id the recorder enrolled as. */
  id: string;
  /** The direct-channel listener it bound. */
  direct: HostPort;
}

/**
 * Reads the first JSON line with `key`; when the daemon never prints it (exit, deadline), it is killed and the
 * error carries its output, so a failed start says why.
 */
async function firstLine<T>(proc: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  try {
    return await firstJson<T>(proc, key, timeoutMs);
  } catch (err) {
    await proc.stop("SIGKILL");
    throw new Error(`${(err as Error).message}\n${proc.label} printed:\n${proc.lines.join("\n")}`);
  }
}

/** `pvrlink control serve ARGS --http HTTP --udp UDP`; resolves once the node prints its bound addresses. */
export async function startNodeDaemon(
  s: DaemonStart,
  bind: { http: string; udp: string },
): Promise<NodeDaemon> {
  const proc = new ChildProcess(
    s.label,
    [...(s.wrap ?? []), ...s.command, "control", "serve", ...s.args, "--http", bind.http, "--udp", bind.udp],
    s.child ?? {},
  );
  const first = await firstLine<{ http: string; udp: string; pin?: string }>(
    proc,
    "http",
    s.timeoutMs ?? 15_000,
  );
  return {
    proc,
    http: hostPort(first.http),
    udp: hostPort(first.udp),
    ...(first.pin === undefined ? {} : { pin: first.pin }),
  };
}

/** `pvrlink recorder run --listen LISTEN ARGS`; resolves once the daemon prints its device and direct listener. */
export async function startRecorderDaemon(s: DaemonStart, listen: string): Promise<RecorderDaemon> {
  const proc = new ChildProcess(
    s.label,
    [...(s.wrap ?? []), ...s.command, "recorder", "run", "--listen", listen, ...s.args],
    s.child ?? {},
  );
  const first = await firstLine<{ direct: string; device: string }>(proc, "direct", s.timeoutMs ?? 15_000);
  return { proc, id: first.device, direct: hostPort(first.direct) };
}
