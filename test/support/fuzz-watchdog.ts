/** @module For fuzz tests: runs seeded cases in a child process under a watchdog, so a hang is killed, named by its seed, and the run goes on. */

export interface FuzzFailure {
  seed: number;
  failure: string;
}

export interface WatchdogOptions {
  /** A case silent for this long is a hang. */
  hangMs: number;
  /** "pipe": anything the child prints to stderr is a failure of the case it was on (a pure codec prints nothing). */
  stderr: "pipe" | "inherit";
  /** Prefixes the hang/crash failure of a seed, e.g. with the recording it came from. */
  describe?: (seed: number) => string;
}

/**
 * Runs `bun script FROM TO`, which prints "start N" before each case, one JSON `FuzzFailure` line per failure and
 * "done" at the end. A case silent for hangMs is killed, recorded with its seed, and the run resumes after it.
 */
export async function runWatchedCases(
  script: string,
  from: number,
  to: number,
  options: WatchdogOptions,
): Promise<FuzzFailure[]> {
  const failures: FuzzFailure[] = [];
  let next = from;
  while (next <= to) {
    const child = Bun.spawn([process.execPath, script, String(next), String(to)], {
      stdout: "pipe",
      stderr: options.stderr,
    });
    let current = next;
    let done = false;
    let timer: Timer | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill(), options.hangMs);
    };
    arm();
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("start ")) {
          current = Number(line.slice(6));
          arm();
        } else if (line === "done") done = true;
        else failures.push(JSON.parse(line));
      }
    }
    clearTimeout(timer);
    const code = await child.exited;
    if (child.stderr instanceof ReadableStream) {
      const stderr = await new Response(child.stderr).text();
      if (stderr.trim() !== "")
        failures.push({ seed: current, failure: `printed to stderr: ${stderr.slice(0, 200)}` });
    }
    if (done && code === 0) break;
    const stop = code === 0 ? "exited early" : `hung or crashed (exit ${code})`;
    failures.push({
      seed: current,
      failure: options.describe ? `${options.describe(current)}: ${stop}` : stop,
    });
    next = current + 1;
  }
  return failures;
}

/**
 * The child's side of runWatchedCases' protocol: runs seeds FROM..TO from argv, printing "start N" before each
 * case, one JSON `FuzzFailure` line when `check` returns a failure, and "done" at the end.
 */
export function serveWatchedCases(check: (seed: number) => string | undefined): void {
  const [from, to] = process.argv.slice(2).map(Number);
  for (let seed = from!; seed <= to!; seed++) {
    process.stdout.write(`start ${seed}\n`);
    const failure = check(seed);
    if (failure !== undefined) process.stdout.write(`${JSON.stringify({ seed, failure })}\n`);
  }
  process.stdout.write("done\n");
}
