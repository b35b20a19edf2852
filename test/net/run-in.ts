/** @module Start real processes inside a network namespace (as ChildProcesses), and run short admin commands. */

import { ChildProcess } from "../../demo/child-process.ts";

export interface RunOptions {
  /** Extra environment variables; the test's own environment is inherited. */
  env?: Record<string, string>;
  cwd?: string;
  /** Label used in error messages; defaults to the program name. */
  label?: string;
}

/** The argv prefix that runs a program inside network namespace `ns` (setns, then exec: the pid is the program's). */
export const inNamespace = (ns: string): string[] => ["ip", "netns", "exec", ns];

/**
 * Starts `argv` inside namespace `ns` as a ChildProcess (demo/child-process.ts) with stdin open for send().
 * Dispose or stop() it; the bed stops leftovers.
 */
export function runIn(ns: string, argv: string[], opts: RunOptions = {}): ChildProcess {
  if (argv.length === 0) throw new RangeError("Cannot run in a namespace: argv is empty");
  return new ChildProcess(opts.label ?? (argv[0] as string), [...inNamespace(ns), ...argv], {
    stdin: true,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
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
