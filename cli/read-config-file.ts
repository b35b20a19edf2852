/** @module The one config-file reader both roles use: a JSON file read and parsed, failures as InputErrors naming the file. */
import { readFileSync } from "node:fs";
import { InputError } from "./command.ts";

export interface ReadConfigFileOptions {
  /** The stable code of a read or parse failure (each role keeps its own, e.g. ERR_CONFIG, ERR_CONFIG_FILE). */
  code: string;
  /** A missing file is no error: the answer is undefined (a default location that may hold no file). */
  optional?: boolean;
}

/**
 * The parsed JSON of a config file, unchecked: each role checks the shape against its own keys. Read
 * synchronously because it happens once at start-up, before anything else runs.
 */
export function readConfigFile(path: string, { code, optional = false }: ReadConfigFileOptions): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputError(`Cannot read config ${path}: ${(err as Error).message}`, code);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`Cannot parse config ${path}: ${(err as Error).message}`, code);
  }
}
