/** @module The recorder's direct listener: accepts callers holding a ticket, follows each lease, hands connections to the receiver. */
import { contactTicketValid } from "../../crypto/contact-ticket.ts";
import { type DirectListener, type DirectLogEvent, listenDirect } from "../direct/direct-listener.ts";
import { UnknownSessionGate } from "../direct/unknown-session-gate.ts";
import type { DeviceAllowList } from "../permit/device-allow-list.ts";
import type { DaemonContext } from "./daemon-context.ts";
import { revokedByDeviceList } from "./device-held-revocation.ts";
import { followLease } from "./lease-follower.ts";
import type { RecordingReceiver } from "./recording-receiver.ts";
import type { SessionEnding } from "./session-ending.ts";
import type { SessionIntake } from "./session-intake.ts";

/** A contact ticket's connectBy is the node's clock: this much skew against the recorder's is tolerated. */
const CONTACT_CLOCK_SKEW_MS = 30_000;

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
  parts: {
    sessions: SessionIntake;
    receiver: RecordingReceiver;
    allow: DeviceAllowList;
    ending: SessionEnding;
  },
): Promise<DirectListener> {
  const { config, client, log } = ctx;
  const { sessions, receiver, allow, ending } = parts;
  // Issue 21 item 6: a stranger's made-up session ids must not spend this recorder's requests at the node.
  const secret = ctx.credential.secretBytes();
  const unknownSessions = new UnknownSessionGate({
    hasTicket: (id) => sessions.tickets.keyFor(id) !== undefined,
    fetch: () => {
      log("unknown-session-lookup", {});
      return sessions.fetch();
    },
    proven: (sessionId, { connectBy, ticket }) =>
      connectBy + CONTACT_CLOCK_SKEW_MS >= Date.now() &&
      contactTicketValid(secret, { sessionId, connectBy }, ticket),
  });
  return listenDirect({
    host: config.listen.host,
    port: config.listen.port,
    tickets: sessions.tickets,
    // The receiver keeps interrupted live receives (partial-receives.ts) and answers a resumed send's RESUME.
    resume: true,
    // The pattern parts this receiver decodes (payload-bytes.ts: PatternDirectDecoder reads every version), or
    // the config's subset (an interoperability test playing an older pvrlink).
    patternVersions: config.patternVersions,
    onUnknownSession: (id, source, contact) => unknownSessions.resolve(id, source, contact),
    stillPermitted: (ticket) => {
      if (!revokedByDeviceList(allow, ticket.callerName)) return true;
      ending.revoke(ticket.sessionId);
      return false;
    },
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
