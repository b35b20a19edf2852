/** @module Start real processes inside a network namespace and wait on what they print, with deadlines. */

import type { Subprocess } from "bun";
import { DEFAULT_WAIT_MS } from "../../demo/wait-for.ts";

export interface RunOptions {
  /** Extra environment variables; the test's own environment is inherited. */
  env?: Record<string, string>;
  cwd?: string;
  /** Label used in error messages; defaults to the program name. */
  label?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Only consider lines with an index at or after this one (see `NsProcess.mark()`). */
  since?: number;
}

/** A process running in a namespace, with its stdout and stderr collected line by line. */
export class NsProcess implements AsyncDisposable {
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly label: string;
  readonly exited: Promise<number>;
  #proc: Subprocess<"pipe", "pipe", "pipe">;
  #waiters = new Set<() => void>();
  #exitCode: number | null = null;

  constructor(ns: string, argv: string[], opts: RunOptions = {}) {
    if (argv.length === 0) throw new RangeError("Cannot run in a namespace: argv is empty");
    this.label = opts.label ?? argv[0]!;
    // `ip netns exec` setns()es and then execs argv, so this pid is the program itself and kill() reaches it.
    this.#proc = Bun.spawn(["ip", "netns", "exec", ns, ...argv], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...opts.env },
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    const out = this.#collect(this.#proc.stdout, this.lines);
    const err = this.#collect(this.#proc.stderr, this.errLines);
    this.exited = this.#proc.exited.then(async (code) => {
      await Promise.all([out, err]);
      this.#exitCode = code;
      this.#wake();
      return code;
    });
  }

  get pid(): number {
    return this.#proc.pid;
  }

  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Index of the next stdout line, for `waitForLine(..., { since })`. */
  mark(): number {
    return this.lines.length;
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.#proc.stdin.write(`${line}\n`);
    this.#proc.stdin.flush();
  }

  /** Resolves with the first stdout line (at or after `since`) matching `pattern`. */
  async waitForLine(pattern: RegExp, opts: WaitOptions = {}): Promise<RegExpMatchArray> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    let next = opts.since ?? 0;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (; next < this.lines.length; next++) {
        const m = this.lines[next]!.match(pattern);
        if (m) return m;
      }
      if (this.#exitCode !== null) {
        throw new Error(
          `${this.label} exited with code ${this.#exitCode} before printing ${pattern}; stderr: ${this.errLines.slice(-5).join(" | ")}`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${this.label} to print ${pattern}; last lines: ${this.lines.slice(-3).join(" | ")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL follows if the process ignores it for 2 s. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    if (this.#exitCode !== null) return this.#exitCode;
    this.#proc.kill(signal);
    const timer = setTimeout(() => this.#proc.kill("SIGKILL"), 2000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  async #collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      partial += decoder.decode(chunk, { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      if (parts.length > 0) {
        into.push(...parts);
        this.#wake();
      }
    }
    if (partial !== "") into.push(partial);
  }
}

/** Starts `argv` inside namespace `ns` (`ip netns exec`). Dispose or `kill()` it; the bed kills leftovers. */
export function runIn(ns: string, argv: string[], opts: RunOptions = {}): NsProcess {
  return new NsProcess(ns, argv, opts);
}

/** Runs a short command (ip, nft, sysctl) to completion; throws with its stderr when it fails. */
export async function exec(argv: string[], input?: string): Promise<string> {
  const proc = Bun.spawn(argv, {
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    throw new Error(`Command failed (exit ${code}): ${argv.join(" ")}: ${err.trim() || out.trim()}`);
  }
  return out;
}
