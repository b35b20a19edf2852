/** @module The recorder's library: recordings and their attributes in bun:sqlite, files kept in the library dir. */

import { Database } from "bun:sqlite";
import { chmod, constants, copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { randomToken } from "../../crypto/random-token.ts";
import type { RecordingType } from "./detect-recording-type.ts";
import { incomingFileName, sweepIncoming } from "./incoming-sweep.ts";
import { DEFAULT_PROTECTION, type ProtectionMode } from "./protection-mode.ts";
import { copyAndScan, probeVerified, type Scan } from "./recording-scan.ts";
import { safeFileName } from "./safe-file-name.ts";

export interface Recording {
  /** `rec_` + 12 random base64url characters. */
  id: string;
  name: string;
  /** Absolute path of the library's own copy. */
  path: string;
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Secret recordings travel whole, encrypted through the node's relay, never direct. */
  secret: boolean;
  type: RecordingType;
  /** For video types: how it is protected in transit; null for data. */
  protection: ProtectionMode | null;
  /** "local" (library add) or "received" (from a peer). */
  origin: "local" | "received";
  /** The sending device's name for received recordings. */
  sender: string | null;
  /** The session that delivered a received recording. */
  sessionId: string | null;
  /** Unix ms when added or received. */
  addedAt: number;
  /** Set by fileReceived() when the library already held this content: this is the held entry, nothing new was filed. */
  duplicate?: boolean;
}

/** What a receiver knows when it files a finished transfer. */
export interface ReceivedFile {
  /** A path from incomingPath(), fully written and closed. */
  tempPath: string;
  name: string;
  secret: boolean;
  sender: string;
  sessionId?: string;
  /** When given, the file must hash to it (the sender's END sha256) or it is rejected and deleted. */
  expectedSha256?: string;
  /**
   * The receiver hashed every byte as it wrote the file and checked it against the sender's SHA-256: filing
   * then reads only the first bytes (the type probe) instead of the whole recording a second time.
   */
  verified?: { size: number; sha256: string };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS recordings (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  file       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  sha256     TEXT NOT NULL,
  secret     INTEGER NOT NULL,
  type       TEXT NOT NULL,
  protection TEXT,
  origin     TEXT NOT NULL,
  sender     TEXT,
  session_id TEXT,
  added_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_added ON recordings (added_at);
CREATE INDEX IF NOT EXISTS recordings_sha256 ON recordings (sha256);
`;

interface Row {
  id: string;
  name: string;
  file: string;
  size: number;
  sha256: string;
  secret: number;
  type: RecordingType;
  protection: ProtectionMode | null;
  origin: "local" | "received";
  sender: string | null;
  session_id: string | null;
  added_at: number;
}

const INCOMING = ".incoming";

const PLAIN_MODE = 0o644;

const SECRET_MODE = 0o600;

/**
 * Files are copied into the library rather than referenced: the library must still hold a recording after the
 * user moves or deletes the original, received recordings have no other home, and a copy can be hashed once
 * and trusted afterwards. The database lives in the data dir (WAL), the files in the library dir.
 */
export class Library implements Disposable {
  readonly #db: Database;
  /** The tail of the received files being checked against the library and filed, one at a time. */
  #filing: Promise<unknown> = Promise.resolve();
  private constructor(
    db: Database,
    readonly dir: string,
  ) {
    this.#db = db;
  }

  /** Opens (creating if needed) dataDir/library.sqlite and libraryDir. */
  static async open(dataDir: string, libraryDir: string): Promise<Library> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await mkdir(join(libraryDir, INCOMING), { recursive: true, mode: 0o700 });
    await sweepIncoming(join(libraryDir, INCOMING));
    const db = new Database(join(dataDir, "library.sqlite"), { create: true, strict: true });
    // WAL: the recorder daemon and a `pvrlink library` command may use the database at once.
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA busy_timeout = 5000");
    db.run(SCHEMA);
    return new Library(db, libraryDir);
  }

  close(): void {
    this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Copies a file into the library, hashing and detecting its type in the same pass. */
  async add(
    source: string,
    opts: { name?: string; secret?: boolean; protection?: ProtectionMode } = {},
  ): Promise<Recording> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(source);
    } catch {
      throw new InputError(`Cannot add ${source}: no such file`, "ERR_LIBRARY_NO_FILE");
    }
    if (!st.isFile())
      throw new InputError(`Cannot add ${source}: not a regular file`, "ERR_LIBRARY_NOT_FILE");
    const tmp = this.incomingPath();
    try {
      const scan = await copyAndScan(source, tmp);
      return await this.#insert(tmp, scan, {
        name: opts.name ?? basename(source),
        secret: opts.secret ?? false,
        protection: opts.protection ?? DEFAULT_PROTECTION,
        origin: "local",
        sender: null,
        sessionId: null,
      });
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** A fresh path on the library's filesystem for a receiver to write into, then hand to fileReceived(). */
  incomingPath(): string {
    return join(this.dir, INCOMING, incomingFileName(randomToken(12)));
  }

  /** Files a received recording: hashes and detects it, checks the expected hash, moves it into the library. */
  async fileReceived(r: ReceivedFile): Promise<Recording> {
    try {
      const scan = r.verified
        ? await probeVerified(r.tempPath, r.verified)
        : await copyAndScan(r.tempPath, undefined);
      if (r.expectedSha256 !== undefined && scan.sha256 !== r.expectedSha256) {
        throw new InputError(
          `Cannot file ${r.name}: SHA-256 does not match the sender's`,
          "ERR_LIBRARY_SHA256_MISMATCH",
        );
      }
      // The look-up and the insert are one step: two sessions delivering the same content at once must not
      // both find it missing and both file it.
      const filed = this.#filing.then(() => this.#fileOnce(r, scan));
      this.#filing = filed.catch(() => {});
      return await filed;
    } catch (err) {
      await rm(r.tempPath, { force: true });
      throw err;
    }
  }

  /**
   * Issue 19 item 8: content the library holds is not filed twice. The received copy goes, the held entry stays,
   * and the receipt tells the sender. Secret is a property of the content: a secret resend makes the held copy
   * secret (and owner-only) too; a plain one never loosens it.
   */
  async #fileOnce(r: ReceivedFile, scan: Scan): Promise<Recording> {
    const held = this.bySha256(scan.sha256);
    if (held === undefined) {
      return await this.#insert(r.tempPath, scan, {
        name: r.name,
        secret: r.secret,
        protection: DEFAULT_PROTECTION,
        origin: "received",
        sender: r.sender,
        sessionId: r.sessionId ?? null,
      });
    }
    await rm(r.tempPath, { force: true });
    if (r.secret && !held.secret) {
      this.#db.query("UPDATE recordings SET secret = 1 WHERE sha256 = ?").run(scan.sha256);
      await chmod(held.path, SECRET_MODE);
    }
    return { ...held, secret: held.secret || r.secret, duplicate: true };
  }

  async #insert(
    tmp: string,
    scan: Scan,
    meta: Pick<Recording, "name" | "secret" | "origin" | "sender" | "sessionId"> & {
      protection: ProtectionMode;
    },
  ): Promise<Recording> {
    const name = meta.name.trim();
    if (name.length === 0 || name.length > 1024 || /\p{Cc}/u.test(name)) {
      throw new InputError(
        "Cannot add recording: name is empty, too long or has control characters",
        "ERR_LIBRARY_NAME",
      );
    }
    const id = `rec_${randomToken(9)}`;
    // The id, then the name with its extension, so a person can tell the file apart.
    const file = `${id}-${safeFileName(name)}`;
    // Readable like any other file of its owner's, so a person can play it; a secret one stays owner-only.
    await chmod(tmp, meta.secret ? SECRET_MODE : PLAIN_MODE);
    await rename(tmp, join(this.dir, file));
    const row: Row = {
      id,
      name,
      file,
      size: scan.size,
      sha256: scan.sha256,
      secret: meta.secret ? 1 : 0,
      type: scan.type,
      protection: scan.type === "data" ? null : meta.protection,
      origin: meta.origin,
      sender: meta.sender,
      session_id: meta.sessionId,
      added_at: Date.now(),
    };
    this.#db
      .query(
        `INSERT INTO recordings (id, name, file, size, sha256, secret, type, protection, origin, sender, session_id, added_at)
         VALUES ($id, $name, $file, $size, $sha256, $secret, $type, $protection, $origin, $sender, $session_id, $added_at)`,
      )
      .run(row as unknown as Record<string, string | number | null>);
    return this.#toRecording(row);
  }

  list(): Recording[] {
    return this.#db
      .query<Row, []>("SELECT * FROM recordings ORDER BY added_at, id")
      .all()
      .map((r) => this.#toRecording(r));
  }

  get(id: string): Recording | undefined {
    const row = this.#db.query<Row, [string]>("SELECT * FROM recordings WHERE id = ?").get(id);
    return row ? this.#toRecording(row) : undefined;
  }

  /**
   * The library's recording with this content, found by SHA-256, so its attributes follow the content whatever
   * the file is called: a copy marked secret anywhere in the library makes the content secret. Only a file whose
   * size some recording has is hashed.
   */
  async findByContent(path: string): Promise<Recording | undefined> {
    const { size } = await stat(path);
    const sized = this.#db.query<{ n: number }, [number]>(
      "SELECT count(*) AS n FROM recordings WHERE size = ?",
    );
    if ((sized.get(size)?.n ?? 0) === 0) return undefined;
    const { sha256 } = await copyAndScan(path, undefined);
    return this.bySha256(sha256);
  }

  /** The recording with this content, a secret one first. */
  bySha256(sha256: string): Recording | undefined {
    const row = this.#db
      .query<Row, [string]>(
        "SELECT * FROM recordings WHERE sha256 = ? ORDER BY secret DESC, added_at LIMIT 1",
      )
      .get(sha256);
    return row ? this.#toRecording(row) : undefined;
  }

  /**
   * Copies a recording out of the library to `dest` (a file, or a directory to put it in under its name); never
   * overwrites. Returns the path written.
   */
  async export(id: string, dest: string): Promise<string> {
    const { source, path: target } = await this.exportTarget(id, dest);
    try {
      await copyFile(source, target, constants.COPYFILE_EXCL);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST")
        throw new InputError(
          `Cannot export ${id}: ${target} exists; remove it or give another DEST`,
          "ERR_LIBRARY_EXPORT_EXISTS",
        );
      throw new InputError(
        `Cannot export ${id} to ${target}: ${(err as Error).message}`,
        "ERR_LIBRARY_EXPORT",
      );
    }
    return target;
  }

  /**
   * Where an export of `id` to `dest` reads and writes: the library's copy, and `dest` or, for a directory,
   * the recording's name in it. Throws InputError ERR_LIBRARY_UNKNOWN_ID.
   */
  async exportTarget(id: string, dest: string): Promise<{ source: string; path: string }> {
    const rec = this.get(id);
    if (rec === undefined)
      throw new InputError(
        `Cannot export ${id}: no such recording; 'pvrlink library list' shows the IDs`,
        "ERR_LIBRARY_UNKNOWN_ID",
      );
    const isDir = await stat(dest).then(
      (st) => st.isDirectory(),
      () => false,
    );
    return { source: rec.path, path: isDir ? join(dest, safeFileName(rec.name)) : dest };
  }

  /** Deletes the row and the library's copy; false if the id is unknown. */
  async remove(id: string): Promise<boolean> {
    const row = this.#db.query<Row, [string]>("SELECT * FROM recordings WHERE id = ?").get(id);
    if (!row) return false;
    this.#db.query("DELETE FROM recordings WHERE id = ?").run(id);
    await rm(join(this.dir, row.file), { force: true });
    return true;
  }

  #toRecording(r: Row): Recording {
    return {
      id: r.id,
      name: r.name,
      path: join(this.dir, r.file),
      size: r.size,
      sha256: r.sha256,
      secret: r.secret === 1,
      type: r.type,
      protection: r.protection,
      origin: r.origin,
      sender: r.sender,
      sessionId: r.session_id,
      addedAt: r.added_at,
    };
  }
}
