/** @module Child processes whose output lines are kept and waited for, and commands run to completion: the demo's and the tests' way to run pvrlink. */
import type { Subprocess } from "bun";

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" (the last colon splits, so an IPv6 host keeps its colons). */
export const hostPort = (s: string): HostPort => {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

/** A child process whose stdout and stderr lines are kept (bounded) and can be waited for. */
export class ChildProcess implements AsyncDisposable {
  readonly lines: string[] = [];
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  #waiters = new Set<() => void>();
  readonly exited: Promise<number>;
  /** Resolves once both output streams have ended and every line is in `lines`. */
  readonly drained: Promise<void>;

  constructor(
    readonly label: string,
    argv: string[],
    private readonly echo?: (label: string, line: string) => void,
    env?: Record<string, string>,
  ) {
    this.proc = Bun.spawn(argv, {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...env },
    });
    this.drained = Promise.all([this.#pump(this.proc.stdout), this.#pump(this.proc.stderr)]).then(() => {});
    this.exited = this.proc.exited;
  }

  get pid(): number {
    return this.proc.pid;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += dec.decode(chunk, { stream: true });
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        this.#line(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
      }
    }
    if (rest) this.#line(rest);
  }

  #line(line: string): void {
    // Keep the log bounded: a long transfer must not grow the test's memory.
    if (this.lines.length > 20_000) this.lines.splice(0, 10_000);
    this.lines.push(line);
    this.echo?.(this.label, line);
    for (const w of this.#waiters) w();
  }

  /** Resolves with the first line (already seen or future) that matches; rejects after timeoutMs or at exit. */
  async waitForLine(
    match: RegExp | ((line: string) => boolean),
    timeoutMs = 15_000,
    from = 0,
  ): Promise<string> {
    const test = typeof match === "function" ? match : (l: string) => match.test(l);
    const deadline = Date.now() + timeoutMs;
    let seen = from;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
      for (const w of this.#waiters) w();
    });
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        const l = this.lines[seen] as string;
        if (test(l)) return l;
      }
      if (exited) throw new Error(`${this.label} exited before printing ${String(match)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.label}: no line matching ${String(match)} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.#waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs; resolves the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 3000): Promise<number> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The first stdout line that is a JSON object with `key`, parsed. */
export async function firstJson<T>(p: ChildProcess, key: string, timeoutMs = 15_000): Promise<T> {
  const line = await p.waitForLine((l) => {
    if (!l.startsWith("{")) return false;
    try {
      return key in (JSON.parse(l) as object);
    } catch {
      return false;
    }
  }, timeoutMs);
  return JSON.parse(line) as T;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion with both outputs collected. */
export async function runToEnd(argv: string[], env?: Record<string, string>): Promise<RunResult> {
  const p = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}
