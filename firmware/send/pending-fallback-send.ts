/** @module The record of a live send that fell back to the relay, kept in the data dir so `send --resume` can finish its uploads in a later process. */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";
import type { RelayPart } from "./relay-upload.ts";

/** The record's layout version; another version is refused by --resume (never guessed at). */
export const PENDING_FALLBACK_SEND_VERSION = 1;

/** One relay transfer of the send: what re-encodes its stream byte for byte (part, manifest sibling) and its declared size. */
export interface PendingFallbackTransfer {
  id: string;
  size: number;
  part: RelayPart;
  /** Split fallback: the protected part's manifest names the direct part's transfer. */
  siblingTransferId?: string;
}

/**
 * What a later process needs to re-encode the same sealed streams and upload the rest: the session (id, lease
 * end), the key the streams are sealed under (the HPKE-mixed key to the callee and its enc, or the transfer key
 * when the callee has no identity key), the manifest's sender, and the transfers. As secret as the device
 * credential beside it: 0600 in the same data dir, removed once the send has ended one way or the other.
 */
export interface PendingFallbackSend {
  version: typeof PENDING_FALLBACK_SEND_VERSION;
  sessionId: string;
  /** The raw key the streams are sealed under, base64url. */
  key: string;
  /** The HPKE enc every stream's prefix carries, base64url; absent when the callee had no identity key. */
  enc?: string;
  /** The live session's lease end as last extended (epoch ms): after it the node drops the partial uploads. */
  expiresAt: number;
  /** The manifest's sender (this device's name when the send began). */
  sender: string;
  transfers: PendingFallbackTransfer[];
  sha256: string;
  size: number;
  to: string;
}

const DIR = "pending-sends";
const PARTS = new Set<RelayPart>(["whole", "protected", "direct"]);

/** One record per (recording, callee), beside the store records; both hex in the name, so no name reaches the path. */
function fileFor(dataDir: string, sha256: string, to: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new TypeError("Cannot name a pending fallback send: the SHA-256 is not hex");
  const callee = Buffer.from(to.trim().toLowerCase()).toString("hex");
  return join(dataDir, DIR, `${sha256}-${callee}.fallback.json`);
}

function isTransfer(v: unknown): v is PendingFallbackTransfer {
  const t = v as Partial<PendingFallbackTransfer> | undefined;
  return (
    typeof t?.id === "string" &&
    Number.isSafeInteger(t.size) &&
    (t.size as number) > 0 &&
    PARTS.has(t.part as RelayPart) &&
    (t.siblingTransferId === undefined || typeof t.siblingTransferId === "string")
  );
}

function isPending(v: unknown): v is PendingFallbackSend {
  const p = v as Partial<PendingFallbackSend> | undefined;
  return (
    p?.version === PENDING_FALLBACK_SEND_VERSION &&
    typeof p.sessionId === "string" &&
    typeof p.key === "string" &&
    (p.enc === undefined || typeof p.enc === "string") &&
    typeof p.expiresAt === "number" &&
    typeof p.sender === "string" &&
    Array.isArray(p.transfers) &&
    p.transfers.length > 0 &&
    p.transfers.length <= 2 &&
    p.transfers.every(isTransfer) &&
    typeof p.sha256 === "string" &&
    Number.isSafeInteger(p.size) &&
    typeof p.to === "string"
  );
}

/** Saves (or replaces: a lease extension moves expiresAt) the record of a fallback send. */
export function savePendingFallbackSend(dataDir: string, p: PendingFallbackSend): void {
  mkdirSync(join(dataDir, DIR), { recursive: true, mode: 0o700 });
  writeJsonAtomic(fileFor(dataDir, p.sha256, p.to), p, 0o600);
}

/**
 * The record for this recording and callee, or undefined. A damaged one (unreadable JSON, a missing or wrong
 * field, another version) is removed and reported as InputError ERR_PENDING_SEND_DAMAGED: nothing in it is
 * guessed at, and a send without --resume starts over.
 */
export function loadPendingFallbackSend(
  dataDir: string,
  sha256: string,
  to: string,
): PendingFallbackSend | undefined {
  const path = fileFor(dataDir, sha256, to);
  let v: unknown;
  try {
    v = readJsonFile(path);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  if (v !== undefined && isPending(v)) return v;
  if (v === undefined && !existsSync(path)) return undefined;
  rmSync(path, { force: true });
  throw new InputError(
    `Cannot resume sending to ${to}: the record of the interrupted send through the node (${path}) is damaged, so its upload cannot be continued; it was removed: send again without --resume`,
    "ERR_PENDING_SEND_DAMAGED",
  );
}

export function removePendingFallbackSend(dataDir: string, sha256: string, to: string): void {
  rmSync(fileFor(dataDir, sha256, to), { force: true });
}
