/** @module Parsers of config values (host:port, URL, bounded number, name) that report a bad value where it came from: a flag or the file. */
import { InputError, UsageError } from "../../cli/command.ts";

export interface HostPort {
  host: string;
  port: number;
}

/** Reports a bad value where it came from: a flag is a usage error (exit 2), the file is bad input (exit 1). */
export type Fail = (what: string, why: string) => never;
export const flagFail: Fail = (what, why) => {
  throw new UsageError(`${what}: ${why}`);
};
export function fileFail(file: string): Fail {
  return (what, why) => {
    throw new InputError(`Cannot use config ${file}: ${what}: ${why}`, "ERR_CONFIG_INVALID");
  };
}

/** Parses "host:port" or "[v6]:port"; port 0..65535. */
export function parseHostPort(s: string, what: string, fail: Fail = flagFail): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) fail(what, `'${s}' is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseUrl(s: string, what: string, fail: Fail): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(what, `'${s}' is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") fail(what, `'${s}' is not an http(s) URL`);
  return u.href.replace(/\/$/, "");
}

/** A value parser: reads `v`, reporting a bad one through `fail` as `what`. */
export type Parse<T> = (v: unknown, what: string, fail: Fail) => T;

/** A parser of numbers in [min, max] (integers only when asked); a flag's string counts as its number. */
export function numberIn(range: { min: number; max: number; integer?: boolean }): Parse<number> {
  const { min, max, integer = false } = range;
  return (v, what, fail) => {
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (
      typeof n !== "number" ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    ) {
      fail(what, `${JSON.stringify(v)} is not ${integer ? "an integer" : "a number"} in [${min}, ${max}]`);
    }
    return n as number;
  };
}

export const hostPort: Parse<HostPort> = (v, what, fail) => parseHostPort(String(v), what, fail);
export const url: Parse<string> = (v, what, fail) => parseUrl(String(v), what, fail);

export function parseName(v: unknown, what: string, fail: Fail): string {
  // Names are matched case-insensitively by the node; control characters would break logs and prompts.
  if (typeof v !== "string" || v.length === 0 || v.length > 128 || /[\p{Cc}]/u.test(v)) {
    fail(what, `${JSON.stringify(v)} is not a name of 1-128 printable characters`);
  }
  return (v as string).trim();
}
