/** @module Interrupted live receives kept in the data dir (DATA/partials, 0600) until a resumed send continues them or they expire. */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { chmod, copyFile, rename, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { CodedSyntaxError } from "../../errors/coded-error.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

/** The directory in the data dir that holds them: `ID.json` (the record) and `ID.part` (the bytes held). */
export const PARTIALS_DIR = "partials";
/** How long an interrupted receive is kept for a resume (config `partialHoldHours`); then it is swept. */
export const DEFAULT_PARTIAL_HOLD_MS = 24 * 3600 * 1000;
/** The record's layout version; another one is refused, not guessed at. */
export const PARTIAL_RECORD_VERSION = 1;

/**
 * What a partial is of: the caller (its device id, as the node authenticated it), the recording (the SHA-256 the
 * OFFER stated) and the shape of the send (route kind, protection, sizes). A resumed send must name all of it
 * exactly; anything else starts fresh, so two files, or two callers, are never spliced.
 */
export interface PartialKey {
  caller: string;
  sha256: string;
  shape: string;
}

/** The record beside the bytes: whose, of what, how much (fsynced before it was written) and until when. */
export interface PartialRecord extends PartialKey {
  version: typeof PARTIAL_RECORD_VERSION;
  name: string;
  /** Bytes of the original in the `.part` file, all fsynced before this record was written. */
  held: number;
  keptAt: number;
  expiresAt: number;
  /**
   * A checkpoint of a receive still running: its bytes are still at this incoming path (not `ID.part`). If the
   * daemon dies, adopt() at its next start moves them here before the library sweeps its incoming dir.
   */
  receiving?: string;
}

/** What a resumed receive starts from: the bytes moved back to an incoming path, truncated to what was held. */
export interface TakenPartial {
  path: string;
  held: number;
}

/** The shape of a send: a partial of one shape is never continued by a send of another. */
export function partialShape(o: {
  kind: string;
  size: number;
  protection: string;
  directSize?: number;
}): string {
  return `${o.kind}/${o.protection}/${o.size}/${o.directSize ?? 0}`;
}

function isRecord(v: unknown): v is PartialRecord {
  const r = v as Partial<PartialRecord> | undefined;
  const count = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  return (
    typeof r === "object" &&
    r !== null &&
    r.version === PARTIAL_RECORD_VERSION &&
    typeof r.caller === "string" &&
    typeof r.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(r.sha256) &&
    typeof r.shape === "string" &&
    typeof r.name === "string" &&
    count(r.held) &&
    count(r.keptAt) &&
    count(r.expiresAt) &&
    (r.receiving === undefined || typeof r.receiving === "string")
  );
}

/** Moves a file, across filesystems too (the library may live elsewhere than the data dir). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

/**
 * One directory of kept receives. The file names are a hash of the whole key, so no name or id reaches a path,
 * one caller cannot name another's partial, and a lookup under any other key finds nothing (it is not told
 * whether one exists). Records are written atomically, 0600, after the bytes they count were fsynced.
 */
export class PartialReceives {
  readonly #dir: string;
  readonly #holdMs: number;
  readonly #now: () => number;

  constructor(dataDir: string, o: { holdMs?: number; now?: () => number } = {}) {
    this.#dir = join(dataDir, PARTIALS_DIR);
    this.#holdMs = o.holdMs ?? DEFAULT_PARTIAL_HOLD_MS;
    this.#now = o.now ?? Date.now;
  }

  get dir(): string {
    return this.#dir;
  }

  #id(key: PartialKey): string {
    return createHash("sha256")
      .update(`pvrlink/partial/v1\n${key.caller}\n${key.sha256}\n${key.shape}`)
      .digest("hex")
      .slice(0, 40);
  }

  #paths(key: PartialKey): { record: string; data: string } {
    const id = this.#id(key);
    return { record: join(this.#dir, `${id}.json`), data: join(this.#dir, `${id}.part`) };
  }

  /**
   * Keeps `held` fsynced bytes at `path` (a closed incoming file) for a resume: the file moves into the
   * directory, then the record goes in. A partial of the same key is replaced.
   */
  async keep(key: PartialKey, o: { name: string; path: string; held: number }): Promise<PartialRecord> {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const { record, data } = this.#paths(key);
    rmSync(record, { force: true });
    await moveFile(o.path, data);
    // Owner-only whatever it was written with: a received recording is nobody else's to read.
    await chmod(data, 0o600);
    const now = this.#now();
    const r: PartialRecord = {
      version: PARTIAL_RECORD_VERSION,
      ...key,
      name: o.name,
      held: o.held,
      keptAt: now,
      expiresAt: now + this.#holdMs,
    };
    writeJsonAtomic(record, r, 0o600);
    return r;
  }

  /** The record kept under `key`, or undefined (none, or expired); a damaged one is ERR_PARTIAL_DAMAGED. */
  read(key: PartialKey): PartialRecord | undefined {
    const { record } = this.#paths(key);
    let v: unknown;
    try {
      v = readJsonFile(record);
    } catch {
      throw damaged(record);
    }
    if (v === undefined) return undefined;
    if (!isRecord(v)) throw damaged(record);
    // The file name is a hash of the key: a record whose fields name another key was put there by hand.
    if (v.caller !== key.caller || v.sha256 !== key.sha256 || v.shape !== key.shape) throw damaged(record);
    if (v.expiresAt <= this.#now()) return undefined;
    return v;
  }

  /**
   * Records that the receive under `key` has `held` bytes fsynced at `path` (its incoming file, still being
   * written): a daemon that dies now still has them at its next start (adopt()). Not resumable until then, or
   * until keep() moves the bytes here.
   */
  checkpoint(key: PartialKey, o: { name: string; path: string; held: number }): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const now = this.#now();
    const r: PartialRecord = {
      version: PARTIAL_RECORD_VERSION,
      ...key,
      name: o.name,
      held: o.held,
      keptAt: now,
      expiresAt: now + this.#holdMs,
      receiving: o.path,
    };
    writeJsonAtomic(this.#paths(key).record, r, 0o600);
  }

  /**
   * At the daemon's start, before the library sweeps its incoming dir: every checkpointed receive (its daemon
   * died mid-transfer) becomes a kept partial, its bytes moved here and cut to the count fsynced. One whose
   * file is gone or shorter is dropped. Returns how many were adopted.
   */
  async adopt(): Promise<number> {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return 0;
    }
    let adopted = 0;
    for (const name of names) {
      const m = /^([0-9a-f]{40})\.json$/.exec(name);
      if (!m) continue;
      let v: unknown;
      try {
        v = readJsonFile(join(this.#dir, name));
      } catch {
        continue; // the sweep removes damaged records
      }
      if (!isRecord(v) || v.receiving === undefined) continue;
      const data = join(this.#dir, `${m[1]}.part`);
      const size = statSync(v.receiving, { throwIfNoEntry: false })?.size ?? -1;
      if (size < v.held) {
        rmSync(join(this.#dir, name), { force: true });
        continue;
      }
      await moveFile(v.receiving, data);
      await truncate(data, v.held);
      await chmod(data, 0o600);
      const { receiving: _, ...kept } = v;
      writeJsonAtomic(join(this.#dir, name), kept, 0o600);
      adopted++;
    }
    return adopted;
  }

  /**
   * Takes the partial kept under `key` out of the directory to `into` (an incoming path on the library's
   * filesystem), truncated to the bytes the record counts, and forgets the record: a resumed receive that fails
   * again keeps afresh. Undefined when there is none, it expired, or its bytes are shorter than the record says
   * (then it is dropped). A damaged record is ERR_PARTIAL_DAMAGED, and dropped too.
   */
  async take(key: PartialKey, into: string): Promise<TakenPartial | undefined> {
    const { record, data } = this.#paths(key);
    let r: PartialRecord | undefined;
    try {
      r = this.read(key);
    } catch (err) {
      await this.drop(key);
      throw err;
    }
    if (r === undefined) {
      await this.drop(key);
      return undefined;
    }
    // A receive of it is still running here (its checkpoint): nothing to hand out yet.
    if (r.receiving !== undefined) return undefined;
    const size = statSync(data, { throwIfNoEntry: false })?.size ?? -1;
    if (size < r.held) {
      await this.drop(key);
      return undefined;
    }
    rmSync(record, { force: true });
    await moveFile(data, into);
    await truncate(into, r.held);
    return { path: into, held: r.held };
  }

  async drop(key: PartialKey): Promise<void> {
    const { record, data } = this.#paths(key);
    rmSync(record, { force: true });
    await rm(data, { force: true });
  }

  /**
   * Drops every partial this caller left of this recording, whatever its shape: once the recording is filed
   * (by a send from the start, a relay resend, a stored delivery) none of them will be resumed. Returns how many.
   */
  async dropRecording(caller: string, sha256: string): Promise<number> {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return 0;
    }
    let dropped = 0;
    for (const name of names) {
      if (!/^[0-9a-f]{40}\.json$/.test(name)) continue;
      let v: unknown;
      try {
        v = readJsonFile(join(this.#dir, name));
      } catch {
        continue; // the sweep removes damaged records
      }
      if (!isRecord(v) || v.caller !== caller || v.sha256 !== sha256) continue;
      await this.drop(v);
      dropped++;
    }
    return dropped;
  }

  /**
   * Removes every expired or damaged partial, and bytes without a record (a keep cut between its two steps).
   * Returns how many were removed. Never throws for one bad entry: the rest are still swept.
   */
  async sweep(): Promise<number> {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return 0;
    }
    const now = this.#now();
    let removed = 0;
    for (const name of names) {
      const m = /^([0-9a-f]{40})\.json$/.exec(name);
      if (!m) continue;
      let keep = false;
      try {
        const v = readJsonFile(join(this.#dir, name));
        keep = isRecord(v) && v.expiresAt > now;
      } catch {
        keep = false;
      }
      if (keep) continue;
      rmSync(join(this.#dir, name), { force: true });
      await rm(join(this.#dir, `${m[1]}.part`), { force: true });
      removed++;
    }
    for (const name of names) {
      const m = /^([0-9a-f]{40})\.part$/.exec(name);
      if (!m || names.includes(`${m[1]}.json`)) continue;
      await rm(join(this.#dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}

function damaged(path: string): CodedSyntaxError {
  return new CodedSyntaxError(
    "ERR_PARTIAL_DAMAGED",
    `Cannot read the interrupted receive kept at ${path}: the record is damaged; it is dropped and the send starts from the beginning`,
    { family: "Partial", offset: undefined },
  );
}
