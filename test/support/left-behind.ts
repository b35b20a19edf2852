/** @module What a transfer leaves on disk: a file's SHA-256, a recorder's temp files, the node's spool files. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export async function sha256File(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await readFile(path)).digest("hex");
}

/** Files left in a recorder's incoming (temp) directory: must be none once a transfer has ended. */
export async function incomingLeftovers(recorderDataDir: string): Promise<string[]> {
  const dir = join(recorderDataDir, "library", ".incoming");
  return existsSync(dir) ? readdir(dir) : [];
}

/** Spool files (`<transfer id>.part`) under the node's data dir, by transfer id. */
export async function spoolFiles(nodeDataDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".part")) out.set(e.name.slice(0, -5), p);
    }
  };
  await walk(nodeDataDir);
  return out;
}

/** Sizes of the node's spool files now (a file removed between the listing and its stat counts 0). */
export async function spoolSizes(nodeDataDir: string): Promise<number[]> {
  if (!existsSync(nodeDataDir)) return [];
  const paths = [...(await spoolFiles(nodeDataDir)).values()];
  return Promise.all(paths.map(async (p) => (await stat(p).catch(() => ({ size: 0 }))).size));
}

/**
 * Every file under dir with its bytes, as a thief of the disk would copy it now. A file the running node removes
 * between the listing and the read (a spool file acked meanwhile) is skipped: its bytes were on the wire anyway.
 */
export function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    try {
      return [{ path, bytes: readFileSync(path) }];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  });
}
