/** @module How the receiver reads one relay transfer: the reader's options from the job, the session's grant and its work. */

import type { PendingSession } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import type { RecorderIdentity } from "../identity/identity-key-file.ts";
import { storeKeyFor } from "../identity/store-key.ts";
import type { RelayReaderOptions } from "./relay-reader.ts";
import type { SessionWork } from "./session-work.ts";

/** One relay transfer to download: which transfer, of which session, and which stream of it. */
export interface RelayJob {
  transferId: string;
  sessionId: string;
  stream?: 1 | 2 | 3;
  /** The forward-secret relay key of the connection whose OFFER named the transfer. */
  key?: CryptoKey;
}

/** What the session gives the read: the node to read from, the keys, and the work whose lease and abort apply. */
export interface RelayReadSession {
  client: ControlClient;
  identity: RecorderIdentity;
  /** The grant this recorder fetched for the session, if it still holds it. */
  grant: PendingSession | undefined;
  sessionKey: Uint8Array;
  work: SessionWork;
}

/** The relay reader's options for `job`: which key opens it, how long it waits for the node and for resumes. */
export function relayReadOptions(
  { transferId, sessionId, stream, key: streamKey }: RelayJob,
  { client, identity, grant, sessionKey, work: w }: RelayReadSession,
): RelayReaderOptions {
  const live = grant?.mode === "live" && w.leaseEnd !== undefined;
  return {
    client,
    transferId,
    sessionId,
    sessionKey,
    // A stored transfer, and a live one no direct connection named (the sender's fallback), may carry an HPKE
    // enc to this recorder's identity key ahead of its records; one named on a connection is under its key.
    ...(grant !== undefined && streamKey === undefined
      ? { storeKey: (enc: Uint8Array) => storeKeyFor(identity, grant, enc) }
      : {}),
    signal: w.abort.signal,
    // A live transfer waits for a restarting node as long as the session's lease lasts; a stored one (no
    // lease of its own here) for the reader's outage limit, and the next inbox run tries again.
    deadline: () => w.leaseEnd ?? Number.POSITIVE_INFINITY,
    // A live transfer whose uploader went away (killed, to be resumed by `send --resume` in the same
    // session) is followed until the lease ends, the sender's own resume window; a stored one is complete.
    ...(live ? { maxResumes: Number.POSITIVE_INFINITY } : {}),
    ...(stream === undefined ? {} : { stream }),
    ...(streamKey === undefined ? {} : { streamKey }),
  };
}
