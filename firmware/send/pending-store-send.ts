/** @module The record of a store-and-forward send in progress, kept in the data dir so `send --resume` can finish it in a later process. */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

/** The record's layout: 2 since store streams carry an HPKE enc (issue 13); a version 1 record is refused. */
export const PENDING_STORE_SEND_VERSION = 2;

/**
 * What a later process needs to finish the upload: the session (its id, key and lease end), the node transfer,
 * and the recording it carries. The key is as secret as the device credential beside it: the file is 0600 in
 * the same data dir, and it goes once the send is stored (or the session is over).
 */
export interface PendingStoreSend {
  version: typeof PENDING_STORE_SEND_VERSION;
  sessionId: string;
  /**
   * The key the store stream is sealed under, base64url: the store key (crypto/hpke-store-key.ts), or the
   * transfer key when the callee had no identity key. With `enc`, a resume re-encodes the very same bytes.
   */
  key: string;
  /** The HPKE enc the stream's prefix carries, base64url; absent when the callee had no identity key (no prefix). */
  enc?: string;
  /** When the store session's lease ends (epoch ms): after it the node has dropped the partial transfer. */
  expiresAt: number;
  transfer: { id: string; size: number };
  sha256: string;
  size: number;
  to: string;
  calleeName: string;
}

/** The directory in the data dir that holds the records. */
const DIR = "pending-sends";

/** One record per (recording, callee); both hex in the file name, so no character of a name reaches the path. */
function fileFor(dataDir: string, sha256: string, to: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new TypeError("Cannot name a pending send: the SHA-256 is not hex");
  const callee = Buffer.from(to.trim().toLowerCase()).toString("hex");
  return join(dataDir, DIR, `${sha256}-${callee}.json`);
}

/** What `send --cancel` needs of a record of any version: the session to end and the transfer to drop. */
export type CancellableStoreSend = Pick<PendingStoreSend, "sessionId" | "transfer">;

function isCancellable(v: unknown): v is CancellableStoreSend & { version: number } {
  const p = v as (Partial<CancellableStoreSend> & { version?: unknown }) | undefined;
  return (
    (p?.version === 1 || p?.version === PENDING_STORE_SEND_VERSION) &&
    typeof p.sessionId === "string" &&
    typeof p.transfer?.id === "string" &&
    typeof p.transfer.size === "number"
  );
}

function isPending(v: unknown): v is PendingStoreSend {
  const p = v as Partial<PendingStoreSend> | undefined;
  return (
    p?.version === PENDING_STORE_SEND_VERSION &&
    typeof p.sessionId === "string" &&
    typeof p.key === "string" &&
    (p.enc === undefined || typeof p.enc === "string") &&
    typeof p.expiresAt === "number" &&
    typeof p.transfer?.id === "string" &&
    typeof p.transfer.size === "number" &&
    typeof p.sha256 === "string" &&
    typeof p.size === "number"
  );
}

/** Saves (or replaces) the record of a store send. */
export function savePendingStoreSend(dataDir: string, p: PendingStoreSend): void {
  mkdirSync(join(dataDir, DIR), { recursive: true, mode: 0o700 });
  writeJsonAtomic(fileFor(dataDir, p.sha256, p.to), p, 0o600);
}

/**
 * The record for this recording and callee, or undefined; a damaged one is a SyntaxError (never guessed at). A
 * version 1 record (a send interrupted before store streams carried an HPKE enc) is InputError
 * ERR_PENDING_SEND_VERSION: it holds no enc, so a resume could not re-encode the bytes the node holds.
 */
export function loadPendingStoreSend(
  dataDir: string,
  sha256: string,
  to: string,
): PendingStoreSend | undefined {
  const v = readJsonFile(fileFor(dataDir, sha256, to));
  if (v === undefined) return undefined;
  if (isCancellable(v) && v.version === 1)
    throw new InputError(
      `Cannot resume this store-and-forward send: it was interrupted under an older pvrlink (pending record version 1, before stored recordings were sealed with HPKE), and its upload cannot be continued; give it up with --cancel and send it again`,
      "ERR_PENDING_SEND_VERSION",
    );
  if (!isPending(v)) throw new SyntaxError("Cannot read the pending send record: it is damaged");
  return v;
}

/** The record for `send --cancel`, of any version (an old one is given up, not resumed); a damaged one is a SyntaxError. */
export function loadCancellableStoreSend(
  dataDir: string,
  sha256: string,
  to: string,
): CancellableStoreSend | undefined {
  const v = readJsonFile(fileFor(dataDir, sha256, to));
  if (v === undefined) return undefined;
  if (!isCancellable(v)) throw new SyntaxError("Cannot read the pending send record: it is damaged");
  return { sessionId: v.sessionId, transfer: v.transfer };
}

export function removePendingStoreSend(dataDir: string, sha256: string, to: string): void {
  rmSync(fileFor(dataDir, sha256, to), { force: true });
}
