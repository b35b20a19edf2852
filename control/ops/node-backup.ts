/** @module Backup and restore of a node's data directory: a consistent sqlite snapshot (VACUUM INTO) taken while it runs, the spool, and its keys. */
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const MANIFEST_FILE = "pvrlink-backup.json";
export const BACKUP_FORMAT = 1;
const DATABASE_FILE = "control.db";
const SPOOL_DIR = "spool";
/**
 * Never copied as files: the live database and its WAL companions (the snapshot replaces them), and what only
 * describes the running process (its pid lock, its serving addresses, its detached log), which would be stale.
 */
const NOT_COPIED = new Set([
  DATABASE_FILE,
  `${DATABASE_FILE}-wal`,
  `${DATABASE_FILE}-shm`,
  `${DATABASE_FILE}-journal`,
  "control.pid",
  "node.json",
  "control.log",
]);

export interface BackupManifest {
  format: number;
  createdAt: number;
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

/** A backup or restore that cannot go on; `code` is stable for scripts. */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly code: "ERR_BACKUP_TARGET" | "ERR_BACKUP_SOURCE" | "ERR_BACKUP_CORRUPT",
  ) {
    super(message);
    this.name = "BackupError";
  }
}

const sha256File = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

function emptyOrAbsent(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * Writes DIR with control.db (a VACUUM INTO snapshot, consistent while the node writes), the spool files the
 * snapshot lists (from `spoolDir`, default DATA/spool), every other top-level file of the data directory (admin token, TLS key and certificate), and
 * a manifest with sizes and SHA-256s. Files are 0600 and DIR 0700: it holds device secrets and keys.
 */
export function backupNode(
  dataDir: string,
  outDir: string,
  o: { spoolDir?: string | undefined; now?: number } = {},
): BackupManifest {
  const spoolDir = o.spoolDir ?? join(dataDir, SPOOL_DIR);
  const now = o.now ?? Date.now();
  const dbPath = join(dataDir, DATABASE_FILE);
  if (!existsSync(dbPath))
    throw new BackupError(`Cannot back up ${dataDir}: no ${DATABASE_FILE} there`, "ERR_BACKUP_SOURCE");
  if (!emptyOrAbsent(outDir))
    throw new BackupError(`Cannot back up into ${outDir}: it is not empty`, "ERR_BACKUP_TARGET");
  mkdirSync(join(outDir, SPOOL_DIR), { recursive: true, mode: 0o700 });
  chmodSync(outDir, 0o700);
  const snapshot = join(outDir, DATABASE_FILE);
  const live = new Database(dbPath, { strict: true });
  try {
    live.run("PRAGMA busy_timeout = 5000");
    live.run("VACUUM INTO ?", [snapshot]);
  } finally {
    live.close();
  }
  chmodSync(snapshot, 0o600);

  // The spool files the snapshot's rows name; a file deleted since the snapshot leaves a row that the node's
  // recover() reads as empty, as after a crash.
  const snap = new Database(snapshot, { readonly: true, strict: true });
  let spoolIds: string[] = [];
  try {
    const hasTable = snap
      .query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'spool_transfers'")
      .get()!.n;
    if (hasTable)
      spoolIds = snap
        .query<{ id: string }, []>("SELECT id FROM spool_transfers")
        .all()
        .map((r) => r.id);
  } finally {
    snap.close();
  }
  const copied: string[] = [DATABASE_FILE];
  for (const id of spoolIds) {
    const rel = join(SPOOL_DIR, `${id}.part`);
    const from = join(spoolDir, `${id}.part`);
    if (!existsSync(from)) continue;
    copyFileSync(from, join(outDir, rel));
    chmodSync(join(outDir, rel), 0o600);
    copied.push(rel);
  }
  for (const name of readdirSync(dataDir)) {
    const p = join(dataDir, name);
    if (NOT_COPIED.has(name) || !statSync(p).isFile()) continue;
    copyFileSync(p, join(outDir, name));
    chmodSync(join(outDir, name), 0o600);
    copied.push(name);
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: now,
    files: copied.map((path) => ({
      path,
      bytes: statSync(join(outDir, path)).size,
      sha256: sha256File(join(outDir, path)),
    })),
  };
  writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

const SAFE_PATH = /^(spool\/)?[A-Za-z0-9._-]+$/;

/**
 * Restores a backup into a fresh data directory (refused when it already holds a database), checking every
 * file against the manifest and the database with integrity_check before anything is written.
 */
export function restoreNode(
  backupDir: string,
  dataDir: string,
  o: { spoolDir?: string | undefined } = {},
): BackupManifest {
  const spoolDir = o.spoolDir ?? join(dataDir, SPOOL_DIR);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(backupDir, MANIFEST_FILE), "utf8")) as BackupManifest;
  } catch (err) {
    throw new BackupError(
      `Cannot restore from ${backupDir}: no readable ${MANIFEST_FILE} (${(err as Error).message})`,
      "ERR_BACKUP_CORRUPT",
    );
  }
  if (manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.files))
    throw new BackupError(
      `Cannot restore from ${backupDir}: unknown backup format ${manifest.format}`,
      "ERR_BACKUP_CORRUPT",
    );
  if (existsSync(join(dataDir, DATABASE_FILE)))
    throw new BackupError(
      `Cannot restore into ${dataDir}: it already holds ${DATABASE_FILE}`,
      "ERR_BACKUP_TARGET",
    );
  for (const f of manifest.files) {
    // Paths come from a file an attacker may have edited: nothing may escape the data directory.
    const path: unknown = typeof f === "object" && f !== null ? f.path : undefined;
    if (typeof path !== "string" || !SAFE_PATH.test(path) || path.includes(".."))
      throw new BackupError(
        `Cannot restore: manifest path '${String(path)}' is not allowed`,
        "ERR_BACKUP_CORRUPT",
      );
    const p = join(backupDir, f.path);
    if (!existsSync(p) || sha256File(p) !== f.sha256)
      throw new BackupError(
        `Cannot restore: ${f.path} is missing or does not match its checksum`,
        "ERR_BACKUP_CORRUPT",
      );
  }
  let verdict: string;
  try {
    const check = new Database(join(backupDir, DATABASE_FILE), { readonly: true });
    try {
      verdict =
        check.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "";
    } finally {
      check.close();
    }
  } catch (err) {
    verdict = (err as Error).message;
  }
  if (verdict !== "ok")
    throw new BackupError(
      `Cannot restore: the database fails integrity_check (${verdict})`,
      "ERR_BACKUP_CORRUPT",
    );
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const f of manifest.files) {
    // spool/ in the backup goes to the configured spool directory, which may be on another filesystem.
    const to = f.path.startsWith(`${SPOOL_DIR}/`)
      ? join(spoolDir, f.path.slice(SPOOL_DIR.length + 1))
      : join(dataDir, f.path);
    copyFileSync(join(backupDir, f.path), to);
    chmodSync(to, 0o600);
  }
  return manifest;
}
