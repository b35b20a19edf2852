/** @module One daemon per data directory: a lock file holding the PID, taken over when that process is gone. */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { InputError } from "./command.ts";

/** Whether a process with this PID exists (signal 0 tests without delivering anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The PID in the lock file when that process still runs; undefined for no file, garbage or a dead PID. */
export function livePid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** A held lock; release() (or `using`) removes the file if it is still ours. */
export class PidLock {
  readonly #path: string;
  #held = true;

  private constructor(path: string) {
    this.#path = path;
  }

  /**
   * Creates `path` exclusively with this PID. A file whose PID is dead (a crash, kill -9) is stale and taken
   * over; a live one is ERR_ALREADY_RUNNING, whose message names `what`, the PID and `hint`.
   */
  static acquire(path: string, what: string, hint: string): PidLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, "wx", 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const pid = livePid(path);
        if (pid !== undefined && pid !== process.pid) {
          throw new InputError(
            `Cannot start ${what}: pid ${pid} already runs on this data directory (${path}); ${hint}`,
            "ERR_ALREADY_RUNNING",
          );
        }
        unlinkSync(path);
        continue;
      }
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return new PidLock(path);
    }
    throw new InputError(
      `Cannot start ${what}: ${path} keeps reappearing; another start races this one`,
      "ERR_ALREADY_RUNNING",
    );
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (livePid(this.#path) === process.pid) unlinkSync(this.#path);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
