/** @module pvrlink run from source (`bun bin/pvrlink.ts`) for the integration tests that need no compiled binary. */
import { join } from "node:path";
import { type RunResult, runToEnd } from "../../demo/child-process.ts";

export const MAIN = join(import.meta.dir, "../../bin/pvrlink.ts");

/** The argv prefix that starts pvrlink from source; a subcommand and its flags follow. */
export const PVRLINK_SOURCE: readonly string[] = ["bun", MAIN];

/** Runs a pvrlink command from source to completion. */
export function pvrlink(args: string[]): Promise<RunResult> {
  return runToEnd([...PVRLINK_SOURCE, ...args]);
}
