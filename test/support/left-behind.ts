/** @module What a transfer leaves on disk: a file's SHA-256, a recorder's temp files, the node's spool files. */
import { existsSync } from "node:fs";
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
