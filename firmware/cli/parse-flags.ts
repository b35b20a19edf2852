/** @module A strict flag parser for subcommands: known flags only, typed values, clear usage errors. */
import { parseArgs } from "node:util";
import { UsageError } from "./command.ts";

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/**
 * Parses args against spec; an unknown flag or a missing value is a UsageError (exit 2), never a silent default.
 * `--help` is always accepted and reported as `help: true`.
 */
export function parseFlags<const S extends FlagSpec>(args: string[], spec: S) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...spec, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
