/** @module Verifies a finished IncomingFile against the sender's length and SHA-256, then files it in the library. */
import type { Library, Recording } from "../library/library.ts";
import type { IncomingFile } from "./incoming-file.ts";
import { ReceiveFailure } from "./receive-failure.ts";

/** What the sender declared about the recording (OFFER meta or relay manifest). */
export interface SenderClaim {
  name: string;
  sha256: string;
  originalSize: number;
  secret: boolean;
  sender: string;
}

export interface FilingDeps {
  library: Library;
  log(event: string, fields: Record<string, unknown>): void;
}

/** How one received file is filed: what wrote it, what the sender claimed, and how a mismatch reads. */
export interface Filing {
  /** Resolves once every byte is in the file. */
  written: () => Promise<void>;
  claim: SenderClaim;
  sessionId: string;
  /** The message a length/SHA-256 mismatch carries. */
  mismatch: (size: number) => string;
  /** Extra fields for the "filed" log line. */
  logExtra?: Record<string, unknown>;
  /**
   * Asked on a failure before the file is discarded: true when it kept the file for a resumed send
   * (receive-resume.ts), which then owns it.
   */
  keep?: (err: unknown, file: IncomingFile) => Promise<boolean>;
  /** Told once the recording is in the library (a duplicate too). */
  onFiled?: (rec: Recording) => void;
}

/**
 * `written` resolves once every byte is in the file (the payload loop, or a split assembly's end). On any
 * failure, a mismatch included, the temp file is discarded before the error goes on, so nothing half-received
 * is ever filed. `mismatch` is the message a length/SHA-256 mismatch carries.
 */
export async function fileReceived(
  d: FilingDeps,
  file: IncomingFile,
  { written, claim, sessionId, mismatch, logExtra = {}, keep, onFiled }: Filing,
): Promise<Recording> {
  try {
    await written();
    const sha = await file.finish();
    if (file.size !== claim.originalSize || sha !== claim.sha256) {
      throw new ReceiveFailure("integrity_failed", mismatch(file.size));
    }
  } catch (err) {
    if (!(await keep?.(err, file))) await file.discard();
    throw err;
  }
  const rec = await d.library.fileReceived({
    tempPath: file.path,
    name: claim.name,
    secret: claim.secret,
    sender: claim.sender,
    sessionId,
    expectedSha256: claim.sha256,
    // Every byte was hashed as it was written (IncomingFile, or the split merger) and matched above.
    verified: { size: file.size, sha256: claim.sha256 },
  });
  d.log("filed", {
    id: rec.id,
    name: rec.name,
    bytes: rec.size,
    sender: claim.sender,
    session: sessionId,
    ...(rec.duplicate ? { duplicate: true } : {}),
    ...logExtra,
  });
  onFiled?.(rec);
  return rec;
}
