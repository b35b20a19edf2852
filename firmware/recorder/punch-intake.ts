/** @module The callee's side of hole punching: every new live session grant starts a punch toward its caller. */
import type { PendingSession } from "../../protocol/api-types.ts";
import type { DirectChannelError } from "../direct/direct-error.ts";
import type { DirectListener } from "../direct/direct-listener.ts";
import { acceptPunched } from "../direct/punched-accept.ts";
import type { DaemonLog } from "./daemon-log.ts";

export interface PunchIntakeOptions {
  node: { host: string; port: number };
  deviceId: string;
  secret: Uint8Array;
  listener: DirectListener;
  log: DaemonLog;
}

/**
 * Returns the handler for a newly fetched grant: it punches toward the caller (who does the same once its query
 * is answered) and moves the port to a QUIC endpoint the direct listener serves, so the caller's REQUEST is
 * checked against the same ticket as over TCP. A failed punch is logged only: the caller then uses the relay.
 */
export function punchIntake(o: PunchIntakeOptions): (grant: PendingSession) => void {
  return (grant) => {
    if (grant.mode !== "live") return;
    const started = performance.now();
    acceptPunched({
      node: o.node,
      deviceId: o.deviceId,
      secret: o.secret,
      session: { id: grant.id, key: grant.key },
      listener: o.listener,
    }).then(
      ({ path }) =>
        o.log("punched", {
          session: grant.id,
          via: path.remote.via,
          remote: `${path.remote.address}:${path.remote.port}`,
          ms: Math.round(performance.now() - started),
        }),
      (err: unknown) =>
        o.log("punch-failed", {
          session: grant.id,
          code: (err as DirectChannelError).code ?? "ERR_UNEXPECTED",
          message: (err as Error).message,
        }),
    );
  };
}
