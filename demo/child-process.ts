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

export interface ChildOptions {
  /** Every output line as it arrives, for a verbose demo or a failing test's report. */
  echo?: (label: string, line: string) => void;
  /** Extra environment variables; the parent's environment is inherited. */
  env?: Record<string, string>;
  cwd?: string;
  /** Keep a pipe to the child's stdin open, for send(). */
  stdin?: boolean;
}

export interface LineWait {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Only consider lines at or after this index of `lines` (see mark()). */
  since?: number;
}

/**
 * A child process whose output lines are kept (bounded) and can be waited for: the one way the demo and the
 * tests run pvrlink (or a probe) as a process, on this host or, behind an argv prefix such as
 * `ip netns exec NS`, somewhere else.
 */
export class ChildProcess implements AsyncDisposable {
  /** stdout and stderr lines together, in the order they arrived. */
  readonly lines: string[] = [];
  /** stdout lines alone (a program's answers, without its warnings). */
  readonly outLines: string[] = [];
  /** stderr lines alone. */
  readonly errLines: string[] = [];
  readonly proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  #waiters = new Set<() => void>();
  #exitCode: number | null = null;
  /** Resolves with the exit code once the process has exited and every line is in `lines`. */
  readonly exited: Promise<number>;

  readonly #o: ChildOptions;
  constructor(
    readonly label: string,
    argv: string[],
    o: ChildOptions = {},
  ) {
    this.#o = o;
    if (argv.length === 0) throw new RangeError(`Cannot start ${label}: argv is empty`);
    this.proc = Bun.spawn(argv, {
      stdin: o.stdin ? "pipe" : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...o.env },
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    });
    const drained = Promise.all([
      this.#pump(this.proc.stdout, this.outLines),
      this.#pump(this.proc.stderr, this.errLines),
    ]);
    this.exited = this.proc.exited.then(async (code) => {
      await drained;
      this.#exitCode = code;
      this.#wake();
      return code;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The exit code once the process has exited and its output is read; null while it runs. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Index of the next line in `lines`, for `waitForLine(..., { since })`. */
  mark(): number {
    return this.lines.length;
  }

  /** Writes one line to the child's stdin (started with `stdin: true`). */
  send(line: string): void {
    const stdin = this.proc.stdin;
    if (typeof stdin !== "object" || stdin === null)
      throw new TypeError(`Cannot write to ${this.label}: it was started without stdin`);
    stdin.write(`${line}\n`);
    stdin.flush();
  }

  async #pump(stream: ReadableStream<Uint8Array>, own: string[]): Promise<void> {
    const dec = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += dec.decode(chunk, { stream: true });
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        this.#line(rest.slice(0, nl), own);
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
      }
    }
    if (rest) this.#line(rest, own);
  }

  #line(line: string, own: string[]): void {
    // Keep the log bounded: a long transfer must not grow the test's memory. Marks stay valid until then.
    for (const list of [this.lines, own]) {
      if (list.length > 20_000) list.splice(0, 10_000);
      list.push(line);
    }
    this.#o.echo?.(this.label, line);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  /**
   * Resolves with the first line (at or after `since`, already printed or future) that matches: the match for a
   * RegExp (its `input` is the line), the line for a predicate. Rejects at the deadline or when the process
   * exits without printing it, with its last lines in the message.
   */
  waitForLine(match: RegExp, o?: LineWait): Promise<RegExpMatchArray>;
  waitForLine(match: (line: string) => boolean, o?: LineWait): Promise<string>;
  async waitForLine(
    match: RegExp | ((line: string) => boolean),
    o: LineWait = {},
  ): Promise<RegExpMatchArray | string> {
    const timeoutMs = o.timeoutMs ?? 15_000;
    const deadline = performance.now() + timeoutMs;
    let seen = o.since ?? 0;
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        const line = this.lines[seen] as string;
        if (typeof match === "function") {
          if (match(line)) return line;
        } else {
          const m = line.match(match);
          if (m) return m;
        }
      }
      const last = () => this.lines.slice(-5).join(" | ");
      if (this.#exitCode !== null)
        throw new Error(
          `${this.label} exited with code ${this.#exitCode} before printing ${String(match)}; last lines: ${last()}`,
        );
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${this.label} to print ${String(match)}; last lines: ${last()}`,
        );
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

  /** Sends `signal` (SIGTERM), then SIGKILL if the process has not exited within graceMs; resolves the exit code. */
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
  const line = await p.waitForLine(
    (l) => {
      if (!l.startsWith("{")) return false;
      try {
        return key in (JSON.parse(l) as object);
      } catch {
        return false;
      }
    },
    { timeoutMs },
  );
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
