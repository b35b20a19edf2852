/** @module Small JSON state files in the data dir, replaced atomically (temp file, fsync, rename) with a fixed mode. */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomToken } from "../../crypto/random-token.ts";

/**
 * Writes `value` as JSON to `path` so a reader (another process: `pvrlink recorder status`) sees the old or the
 * new file whole, never half of one; the temp file is created with `mode` so secrets never sit in a wider file.
 */
export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): void {
  const tmp = `${path}.tmp-${randomToken(6)}`;
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Reads a JSON file; undefined when it does not exist. Throws SyntaxError for a damaged one. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}
