/** @module Ending a session on this recorder: forgetting it locally, or revoking it at the node when this recorder's own list dropped the caller. */
import type { ControlClient } from "../../protocol/control-client.ts";
import type { DaemonLog } from "./daemon-log.ts";
import type { RecordingReceiver } from "./recording-receiver.ts";
import type { SessionIntake } from "./session-intake.ts";

export interface SessionEnding {
  /** Forgets a session here: its ticket, its running transfers, its key. */
  endLocally(session: string, reason: string): void;
  /** This recorder's own list dropped the caller: end the session here and at the node (which then refuses it). */
  revoke(session: string): void;
}

/** Both ways to end a session, over the daemon's parts. */
export function sessionEnding(parts: {
  client: ControlClient;
  sessions: SessionIntake;
  receiver: RecordingReceiver;
  log: DaemonLog;
}): SessionEnding {
  const { client, sessions, receiver, log } = parts;
  const endLocally = (session: string, reason: string) => {
    sessions.tickets.end(session);
    const had = receiver.endSession(session, reason);
    sessions.keyring.delete(session);
    log("session-ended", { session, reason, transfers: had ? "aborted" : "none" });
  };
  return {
    endLocally,
    revoke: (session) => {
      endLocally(session, "revoked");
      void client
        .end(session, { reason: "revoked" })
        .catch((err: unknown) => log("session-end-failed", { session, message: (err as Error).message }));
    },
  };
}
