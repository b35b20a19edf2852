/** @module `--detach`: start this same program as a background daemon, wait until it is ready, then return. */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { InputError } from "./command.ts";
import { livePid, processAlive } from "./pid-lock.ts";

/** How to start this same program: the compiled binary alone, or the runtime plus the entry script. */
export function selfCommand(): string[] {
  // A compiled Bun binary serves its entry from the embedded /$bunfs filesystem; there the binary is the program.
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")
    ? [process.execPath]
    : [process.execPath, Bun.main];
}

export interface DetachOptions<T> {
  /** The arguments of the foreground command, without --detach. */
  args: string[];
  /** Where the daemon's stdout and stderr go (appended). */
  logFile: string;
  /** Its PID lock file: a second daemon on the same data directory is refused before anything starts. */
  lockFile: string;
  /** What the error messages call it, e.g. "the recorder daemon". */
  what: string;
  /** Polled until it returns a value: the daemon is ready. */
  ready: (pid: number) => T | undefined;
  timeoutMs?: number;
}

/** The last lines of the daemon's log, for an error message. */
function tail(path: string, lines = 5): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join(" | ");
  } catch {
    return "";
  }
}

/** Starts the daemon in its own session (it outlives this process) and resolves when ready() says so. */
export async function detach<T>(o: DetachOptions<T>): Promise<{ pid: number; ready: T }> {
  const running = livePid(o.lockFile);
  if (running !== undefined) {
    throw new InputError(
      `Cannot start ${o.what}: pid ${running} already runs on this data directory (${o.lockFile})`,
      "ERR_ALREADY_RUNNING",
    );
  }
  const [cmd, ...pre] = selfCommand() as [string, ...string[]];
  const log = openSync(o.logFile, "a", 0o600);
  const child = spawn(cmd, [...pre, ...o.args], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new InputError(`Cannot start ${o.what}: spawn failed`, "ERR_DAEMON_START");
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  try {
    for (;;) {
      const r = o.ready(pid);
      if (r !== undefined) return { pid, ready: r };
      if (exited !== null || !processAlive(pid)) {
        throw new InputError(
          `Cannot start ${o.what}: it exited (${exited ?? "?"}): ${tail(o.logFile)}; see ${o.logFile}`,
          "ERR_DAEMON_START",
        );
      }
      if (Date.now() > deadline) {
        throw new InputError(
          `Cannot start ${o.what}: not ready after ${(o.timeoutMs ?? 30_000) / 1000} s (pid ${pid} left running): ${tail(o.logFile)}; see ${o.logFile}`,
          "ERR_DAEMON_TIMEOUT",
        );
      }
      await Bun.sleep(100);
    }
  } finally {
    child.unref();
  }
}

/** Sends SIGTERM to the daemon holding lockFile and waits until it is gone; false when none ran. */
export async function stopDaemon(lockFile: string, what: string, timeoutMs = 15_000): Promise<boolean> {
  const pid = livePid(lockFile);
  if (pid === undefined) return false;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline)
      throw new InputError(
        `Cannot stop ${what}: pid ${pid} still runs ${timeoutMs / 1000} s after SIGTERM; kill -9 ${pid}`,
        "ERR_DAEMON_STOP",
      );
    await Bun.sleep(50);
  }
  return true;
}
