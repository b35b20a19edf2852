/** @module Removes temp files left in the library's incoming dir by a receiver or `library add` that died mid-write. */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** A temp file's name: random part, the writing process's pid, ".part" (the pid says whether its writer lives). */
export const INCOMING_FILE = /^[A-Za-z0-9_-]+\.(\d+)\.part$/;
/** Any other ".part" file (from before pids were in the name) is left alone this long after its last write. */
export const UNOWNED_PART_MAX_AGE_MS = 24 * 3600 * 1000;

/** The name incomingPath() gives a temp file written by this process. */
export function incomingFileName(random: string, pid = process.pid): string {
  return `${random}.${pid}.part`;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/**
 * Issue 21 item 11: a receiver that crashed left its `.part` files behind for good (518 MB in one run). Deletes
 * every `.part` file whose writer process is gone, and unnamed-writer ones untouched for a day; a file of a live
 * process (another command receiving right now) is kept. Returns the names removed.
 */
export async function sweepIncoming(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.endsWith(".part")) continue;
    const m = INCOMING_FILE.exec(name);
    let stale: boolean;
    if (m) stale = !alive(Number(m[1]));
    else {
      const st = await stat(join(dir, name)).catch(() => null);
      stale = st !== null && now - st.mtimeMs > UNOWNED_PART_MAX_AGE_MS;
    }
    if (stale) {
      await rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
