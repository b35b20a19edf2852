/** @module The record of a store-and-forward send in progress, kept in the data dir so `send --resume` can finish it in a later process. */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

/**
 * What a later process needs to finish the upload: the session (its id, key and lease end), the node transfer,
 * and the recording it carries. The session key is as secret as the device credential beside it: the file is
 * 0600 in the same data dir, and it goes once the send is stored (or the session is over).
 */
export interface PendingStoreSend {
  version: 1;
  sessionId: string;
  /** The session key, base64url: the relay stream is sealed under it, so a resume re-encodes the same bytes. */
  key: string;
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

function isPending(v: unknown): v is PendingStoreSend {
  const p = v as Partial<PendingStoreSend> | undefined;
  return (
    p?.version === 1 &&
    typeof p.sessionId === "string" &&
    typeof p.key === "string" &&
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

/** The record for this recording and callee, or undefined; a damaged one is a SyntaxError (never guessed at). */
export function loadPendingStoreSend(
  dataDir: string,
  sha256: string,
  to: string,
): PendingStoreSend | undefined {
  const v = readJsonFile(fileFor(dataDir, sha256, to));
  if (v === undefined) return undefined;
  if (!isPending(v)) throw new SyntaxError("Cannot read the pending send record: it is damaged");
  return v;
}

export function removePendingStoreSend(dataDir: string, sha256: string, to: string): void {
  rmSync(fileFor(dataDir, sha256, to), { force: true });
}
