/** @module pvrlink run from source (`bun firmware/main.ts`) for the integration tests that need no compiled binary. */
import { join } from "node:path";
import { type RunResult, runToEnd } from "../../firmware/demo/child-process.ts";

export const MAIN = join(import.meta.dir, "../../firmware/main.ts");

/** The argv prefix that starts pvrlink from source; a subcommand and its flags follow. */
export const PVRLINK_SOURCE: readonly string[] = ["bun", MAIN];

/** Runs a pvrlink command from source to completion. */
export function pvrlink(args: string[]): Promise<RunResult> {
  return runToEnd([...PVRLINK_SOURCE, ...args]);
}
