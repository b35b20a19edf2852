/** @module Where a recorder config value comes from: its flag, else the config file, else its default; the file found and read once. */
import { dirname, join, resolve } from "node:path";
import { InputError } from "../../cli/command.ts";
import { defaultDataDir } from "../../cli/data-dir.ts";
import { readConfigFile } from "../../cli/read-config-file.ts";
import type { ConfigFlagValues } from "./config-flags.ts";
import { type Fail, fileFail, flagFail, type Parse } from "./config-value-parsers.ts";

/** The config file's keys, RecorderConfig's (recorder-config.ts); any other key is an error (a typo must not silently fall back to a default). */
const FILE_KEYS = new Set([
  "name",
  "nodeUrl",
  "nodeUdp",
  "nodeUdpFallbacks",
  "nodeUrlFallbacks",
  "dataDir",
  "libraryDir",
  "credentialPath",
  "listen",
  "advertise",
  "loadLimits",
  "keepaliveSeconds",
  "policy",
  "allow",
  "priority",
  "sealedBelowBytes",
  "partialHoldSeconds",
  "patternVersions",
]);

/** Where a value can come from, built once: flags win over the file, which wins over defaults. */
export interface ConfigSources {
  flags: ConfigFlagValues;
  env: Record<string, string | undefined>;
  /** The config file's body; empty when there is none. */
  file: Record<string, unknown>;
  /** Reports a bad file value, naming the file. */
  fileFail: Fail;
  /** Relative paths in the file are relative to it; without a file, to the working directory. */
  fileDir: string;
}

/** The config file used: --config (must exist), else dataDir/config.json when present, else none. */
function readRecorderConfigFile(
  flags: ConfigFlagValues,
  dataDir: string,
): { path: string; body: Record<string, unknown> } | undefined {
  const path = flags.config !== undefined ? resolve(flags.config) : join(dataDir, "config.json");
  const body = readConfigFile(path, { code: "ERR_CONFIG_FILE", optional: flags.config === undefined });
  if (body === undefined) return undefined;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InputError(`Cannot use config ${path}: the top level is not a JSON object`, "ERR_CONFIG_FILE");
  }
  for (const key of Object.keys(body)) {
    if (!FILE_KEYS.has(key))
      throw new InputError(`Cannot use config ${path}: unknown key '${key}'`, "ERR_CONFIG_INVALID");
  }
  return { path, body: body as Record<string, unknown> };
}

/** Step 1: finds and reads the config file (in --data, else the default data dir, unless --config names it). */
export function openSources(flags: ConfigFlagValues, env: Record<string, string | undefined>): ConfigSources {
  const flagDataDir = flags.data !== undefined ? resolve(flags.data) : undefined;
  const file = readRecorderConfigFile(flags, flagDataDir ?? defaultDataDir(env));
  return {
    flags,
    env,
    file: file?.body ?? {},
    fileFail: fileFail(file?.path ?? ""),
    fileDir: file ? dirname(file.path) : process.cwd(),
  };
}

/** Where a layered value is looked up: its flag, its file key (inside a nested file object when given). */
export interface LayeredValue<T> {
  flag: keyof ConfigFlagValues;
  key: string;
  /** A nested object of the file holding `key`, and the object's own key (errors name `name.key`). */
  within?: { body: Record<string, unknown>; name: string };
  parse: Parse<T>;
  fallback: () => T;
}

/** A value from its flag (`--flag`), else from the file, else the fallback; a bad one is reported where it came from. */
export function layered<T>(src: ConfigSources, o: LayeredValue<T>): T {
  const fromFlag = src.flags[o.flag];
  if (fromFlag !== undefined) return o.parse(fromFlag, `--${o.flag}`, flagFail);
  const fromFile = (o.within?.body ?? src.file)[o.key];
  if (fromFile !== undefined)
    return o.parse(fromFile, o.within ? `${o.within.name}.${o.key}` : o.key, src.fileFail);
  return o.fallback();
}

/** A path key of the file, resolved against the file's directory. */
export function filePath(src: ConfigSources, key: string): string | undefined {
  const v = src.file[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") src.fileFail(key, "is not a path");
  return resolve(src.fileDir, v as string);
}
