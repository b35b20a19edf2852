/** @module A strict flag parser for subcommands: known flags only, typed values, clear usage errors. */
import { UsageError } from "./command.ts";

export interface FlagDefinition {
  type: "string" | "boolean";
  /** One letter: `-o value` for `--out value`; boolean letters group (`-vq`). */
  short?: string;
  /** Repeats collect into an array; without it the last one wins. */
  multiple?: boolean;
}
type FlagSpec = Record<string, FlagDefinition>;

type FlagValue<F extends FlagDefinition> = F["type"] extends "boolean"
  ? F["multiple"] extends true
    ? boolean[]
    : boolean
  : F["multiple"] extends true
    ? string[]
    : string;

/** The flags given, by long name; a flag not given is absent. `help` is always known. */
export type FlagValues<S extends FlagSpec> = { [K in keyof S]?: FlagValue<S[K]> } & { help?: boolean };

const HELP: FlagDefinition = { type: "boolean", short: "h" };

/**
 * Parses args against spec; an unknown flag or a missing value is a UsageError (exit 2), never a silent default.
 * `--help` is always accepted and reported as `help: true`. The syntax is node:util's parseArgs in strict mode
 * (`--name value`, `--name=value`, `-n value`, `-nvalue`, grouped boolean letters, `--` ends the flags), written
 * here because loading node:util cost every `pvrlink` start 1 ms, a fiftieth of an `inspect` (docs/benchmarks.md).
 */
export function parseFlags<const S extends FlagSpec>(
  args: readonly string[],
  spec: S,
): { values: FlagValues<S>; positionals: string[] } {
  const defs: FlagSpec = { ...spec, help: HELP };
  const byShort = new Map<string, string>();
  for (const [name, d] of Object.entries(defs)) if (d.short !== undefined) byShort.set(d.short, name);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const set = (name: string, value: string | boolean) => {
    if (!defs[name]?.multiple) {
      values[name] = value;
      return;
    }
    const list = (values[name] as unknown[] | undefined) ?? [];
    list.push(value);
    values[name] = list;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const def = defs[name];
      if (def === undefined) throw new UsageError(`Unknown option '--${name}'`);
      if (def.type === "boolean") {
        if (eq >= 0) throw new UsageError(`Option '--${name}' does not take an argument`);
        set(name, true);
      } else if (eq >= 0) {
        set(name, arg.slice(eq + 1));
      } else {
        set(name, valueAfter(args, i++, `--${name}`, name));
      }
      continue;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    // -x, -xVALUE, -abc (boolean letters); a string letter takes the rest of the word or the next argument.
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k] as string;
      const name = byShort.get(letter);
      if (name === undefined) throw new UsageError(`Unknown option '-${letter}'`);
      if ((defs[name] as FlagDefinition).type === "boolean") {
        set(name, true);
        continue;
      }
      if (k + 1 < arg.length) set(name, arg.slice(k + 1));
      else set(name, valueAfter(args, i++, `-${letter}`, name));
      break;
    }
  }
  return { values: values as FlagValues<S>, positionals };
}

/** The value of the string flag at args[i], which is the next argument: present, and not itself a flag. */
function valueAfter(args: readonly string[], i: number, flag: string, name: string): string {
  const value = args[i + 1];
  if (value === undefined) throw new UsageError(`Option '${flag} <value>' argument missing`);
  if (value.startsWith("-") && value !== "-") {
    throw new UsageError(
      `Option '${flag} <value>' argument is ambiguous: '${value}' looks like a flag (write --${name}=${value} if it is the value)`,
    );
  }
  return value;
}
