/** @module Backup and restore of a node's data directory: a consistent sqlite snapshot (VACUUM INTO) taken while it runs, the spool (files or S3 objects), and its keys. */
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
import { parseS3SpoolUrl, type S3SpoolTarget } from "../spool/s3-spool-client.ts";
import { copyPartsFromS3, copyPartsToS3, S3_PARTS_DIR } from "./s3-part-copy.ts";

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
  /** The S3 spool (`s3://BUCKET/PREFIX/`) the `s3/` files came from; absent when there are none. */
  spool?: string;
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

/** Hashed chunk by chunk: a spool file or part object may be large. */
async function sha256File(p: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of Bun.file(p).stream()) hash.update(chunk);
  return hash.digest("hex");
}

/** The options backup and restore take: where the spool is (a directory, or S3 when `s3` is set). */
export interface BackupOptions {
  spoolDir?: string | undefined;
  /** The node's S3 spool (its `spool: s3://...` and credentials); null or absent: a filesystem spool. */
  s3?: S3SpoolTarget | null;
}

function snapshotRows<T>(db: Database, table: string, sql: string): T[] {
  const has = db
    .query<{ n: number }, [string]>("SELECT count(*) AS n FROM sqlite_master WHERE name = ?")
    .get(table)!.n;
  return has ? db.query<T, []>(sql).all() : [];
}

function emptyOrAbsent(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * Writes DIR with control.db (a VACUUM INTO snapshot, consistent while the node writes), the spool files the
 * snapshot lists (from `spoolDir`, default DATA/spool) or, with `s3`, the part objects its spool_parts rows list
 * (as s3/…), every other top-level file of the data directory (admin token, TLS key and certificate), and a
 * manifest with sizes and SHA-256s. Files are 0600 and DIR 0700: it holds device secrets and keys.
 */
export async function backupNode(
  dataDir: string,
  outDir: string,
  o: BackupOptions & { now?: number } = {},
): Promise<BackupManifest> {
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
  let spoolIds: string[];
  let partKeys: string[];
  try {
    spoolIds = snapshotRows<{ id: string }>(snap, "spool_transfers", "SELECT id FROM spool_transfers").map(
      (r) => r.id,
    );
    partKeys = snapshotRows<{ k: string }>(
      snap,
      "spool_parts",
      "SELECT object_key AS k FROM spool_parts ORDER BY transfer_id, part",
    ).map((r) => r.k);
  } finally {
    snap.close();
  }
  if (partKeys.length > 0 && !o.s3)
    throw new BackupError(
      `Cannot back up ${dataDir}: its spool is on S3 (${partKeys.length} parts) but no s3:// spool is configured (pass the node's --config)`,
      "ERR_BACKUP_SOURCE",
    );
  const copied: string[] = [DATABASE_FILE];
  // Same rule as for files: the parts the snapshot lists; those deleted since are skipped.
  if (o.s3) {
    try {
      copied.push(...(await copyPartsFromS3(o.s3, partKeys, outDir)));
    } catch (err) {
      throw new BackupError(
        `Cannot back up the S3 spool's parts: ${(err as Error).message}`,
        "ERR_BACKUP_SOURCE",
      );
    }
  }
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
  const files: BackupManifest["files"] = [];
  for (const path of copied)
    files.push({
      path,
      bytes: statSync(join(outDir, path)).size,
      sha256: await sha256File(join(outDir, path)),
    });
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: now,
    ...(o.s3 && copied.some(isPartPath) ? { spool: parseS3Location(o.s3.url) } : {}),
    files,
  };
  writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

const SAFE_PATH = /^(spool\/)?[A-Za-z0-9._-]+$/;
/** A part object below the spool's prefix (control/spool/s3-blobs.ts names them so). */
const SAFE_PART_PATH = /^s3\/tr_[A-Za-z0-9_-]{22}\/\d{6}-[A-Za-z0-9_-]+$/;
const isPartPath = (path: string) => path.startsWith(`${S3_PARTS_DIR}/`);

function parseS3Location(url: string): string {
  const { bucket, prefix } = parseS3SpoolUrl(url);
  return `s3://${bucket}/${prefix}`;
}

/**
 * The S3 spool a backup's parts go back to: the configured one, which must be the bucket and prefix they came
 * from, since the restored rows name each object by its full key and the spool by its location (a node serves
 * only the rows at its own location).
 */
function partTarget(
  manifest: BackupManifest,
  count: number,
  s3: S3SpoolTarget | null | undefined,
): S3SpoolTarget {
  if (!s3)
    throw new BackupError(
      `Cannot restore: the backup holds ${count} S3 spool parts but no s3:// spool is configured`,
      "ERR_BACKUP_TARGET",
    );
  let had: string;
  try {
    had = parseS3Location(String(manifest.spool));
  } catch {
    throw new BackupError(
      `Cannot restore: the manifest's spool '${String(manifest.spool)}' is not an s3:// URL`,
      "ERR_BACKUP_CORRUPT",
    );
  }
  const want = parseS3Location(s3.url);
  if (had !== want)
    throw new BackupError(
      `Cannot restore: the parts came from ${had} but the configured spool is ${want}`,
      "ERR_BACKUP_TARGET",
    );
  return s3;
}

/**
 * Restores a backup into a fresh data directory (refused when it already holds a database), and its S3 part
 * objects into the configured bucket and prefix (the ones they came from), checking every file against the manifest and the
 * database with integrity_check before anything is written.
 */
export async function restoreNode(
  backupDir: string,
  dataDir: string,
  o: BackupOptions = {},
): Promise<BackupManifest> {
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
    if (
      typeof path !== "string" ||
      !(SAFE_PATH.test(path) || SAFE_PART_PATH.test(path)) ||
      path.includes("..")
    )
      throw new BackupError(
        `Cannot restore: manifest path '${String(path)}' is not allowed`,
        "ERR_BACKUP_CORRUPT",
      );
    const p = join(backupDir, f.path);
    if (!existsSync(p) || (await sha256File(p)) !== f.sha256)
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
  const parts = manifest.files.map((f) => f.path).filter(isPartPath);
  if (parts.length > 0) {
    const target = partTarget(manifest, parts.length, o.s3);
    // Objects first: if S3 fails, the data directory is still untouched and the restore can be run again.
    try {
      await copyPartsToS3(target, backupDir, parts);
    } catch (err) {
      throw new BackupError(
        `Cannot restore the S3 spool's parts: ${(err as Error).message}`,
        "ERR_BACKUP_TARGET",
      );
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const f of manifest.files) {
    if (isPartPath(f.path)) continue;
    // spool/ in the backup goes to the configured spool directory, which may be on another filesystem.
    const to = f.path.startsWith(`${SPOOL_DIR}/`)
      ? join(spoolDir, f.path.slice(SPOOL_DIR.length + 1))
      : join(dataDir, f.path);
    copyFileSync(join(backupDir, f.path), to);
    chmodSync(to, 0o600);
  }
  return manifest;
}
