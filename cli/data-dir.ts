/** @module The one default data directory every `pvrlink` command uses: $PVRLINK_DATA, else XDG's, else ~/.local/share/pvrlink. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The data directory a command uses when no --data is given. The control node and a recorder on the same box
 * share it safely: their files have distinct names (control.db, spool/ vs credential.json, library/).
 */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  if (env.PVRLINK_DATA) return resolve(env.PVRLINK_DATA);
  const xdg = env.XDG_DATA_HOME;
  // XDG Base Directory: a relative XDG_DATA_HOME is invalid and must be ignored.
  return join(xdg?.startsWith("/") ? xdg : join(homedir(), ".local", "share"), "pvrlink");
}
