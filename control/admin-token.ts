/** @module The operator's admin token: from the configuration, or generated once and kept 0600 in the data directory. */
import { chmodSync, closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomToken } from "../crypto/random-token.ts";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Returns the configured token, or DATA/admin-token, creating it with 32 CSPRNG bytes on first start.
 * The file is opened with O_EXCL and mode 0600, so a token is never written where another user can read it,
 * and a racing second start reads the first one's token instead of replacing it.
 */
export function loadOrCreateAdminToken(dataDir: string, configured: string | null): string {
  if (configured !== null) return configured;
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const fd = openSync(path, "wx", 0o600);
    const token = `adm_${randomToken(32)}`;
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    chmodSync(path, 0o600);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const token = readFileSync(path, "utf8").trim();
  if (token.length < 16)
    throw new RangeError(`Cannot use ${path}: the admin token in it is shorter than 16 characters`);
  return token;
}
