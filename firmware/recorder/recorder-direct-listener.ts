/** @module The recorder's direct listener: accepts callers holding a ticket, follows each lease, hands connections to the receiver. */
import { type DirectListener, type DirectLogEvent, listenDirect } from "../direct/direct-listener.ts";
import type { DaemonContext } from "./daemon-context.ts";
import { followLease } from "./lease-follower.ts";
import type { RecordingReceiver } from "./recording-receiver.ts";
import type { SessionIntake } from "./session-intake.ts";

/** Accepted and denied handshakes are logged as such; every other code as one "direct-refused" event. */
function directEventName(e: DirectLogEvent): string {
  return e.code === "DIRECT_ACCEPTED" || e.code === "DIRECT_DENIED"
    ? e.code.toLowerCase().replace("_", "-")
    : "direct-refused";
}

/**
 * Listens on the configured address. An unknown session fetches the node's pending grants first (the caller
 * may dial before the contact trigger was handled); each accepted connection follows its lease so an extension
 * the caller obtained moves the channel's expiry.
 */
export function startDirectListener(
  ctx: DaemonContext,
  parts: { sessions: SessionIntake; receiver: RecordingReceiver },
): Promise<DirectListener> {
  const { config, client, log } = ctx;
  const { sessions, receiver } = parts;
  return listenDirect({
    host: config.listen.host,
    port: config.listen.port,
    tickets: sessions.tickets,
    onUnknownSession: () => sessions.fetch(),
    onConnection: (conn, ticket) => {
      const stop = followLease({
        expiresAt: ticket.expiresAt,
        fetch: () => client.session(ticket.sessionId),
        onExtended: (at) => {
          sessions.tickets.extend(ticket.sessionId, at);
          receiver.leaseExtended(ticket.sessionId, at);
        },
        log: (event, fields) => log(event, { session: ticket.sessionId, ...fields }),
      });
      void conn.closed.then(stop);
      void receiver.onConnection(conn, ticket.callerName ?? ticket.callerId);
    },
    log: (e) =>
      log(directEventName(e), { code: e.code, remote: e.remote, session: e.sessionId, detail: e.detail }),
  });
}
