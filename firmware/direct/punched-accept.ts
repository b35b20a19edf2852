/** @module The callee's punched path: session mapping, hole punch with its certificate's fingerprint, QUIC listener. */

import { createPinnedCertificate } from "../../crypto/self-signed-certificate.ts";
import type { DirectListener } from "./direct-listener.ts";
import type { PunchResult } from "./hole-punch.ts";
import { type PunchedPathOptions, punchSession } from "./punch-session.ts";
import { listenQuic, type QuicServer } from "./quic-transport.ts";

export interface PunchedAccept {
  server: QuicServer;
  path: PunchResult;
}

/** A punched QUIC endpoint with no stream after this long is closed: the caller gave up (relay). */
const IDLE_CLOSE_MS = 10_000;
/** The certificate lives one day: it is made per session and pinned by fingerprint, never reused. */
const CERT_VALID_MS = 24 * 3600 * 1000;

/**
 * Punches toward the caller and moves the port to a QUIC endpoint whose streams the direct listener adopts: the
 * caller's REQUEST is checked against the session ticket exactly as over TCP. Closes the endpoint when the first
 * channel over it closes, or after IDLE_CLOSE_MS without one. Throws ERR_DIRECT_PUNCH as dialPunched does.
 */
export async function acceptPunched(
  o: PunchedPathOptions & { listener: DirectListener },
): Promise<PunchedAccept> {
  const certificate = await createPinnedCertificate("pvrlink", CERT_VALID_MS);
  const { local, path } = await punchSession(o, "callee", certificate.fingerprint);
  let idle: ReturnType<typeof setTimeout> | undefined;
  const server = await listenQuic({
    host: local.address,
    port: local.port,
    certificate,
    onSocket: (socket) => {
      clearTimeout(idle);
      socket.via = path.remote.via === "lan" ? "lan" : "punched";
      socket.once("close", () => void server.close());
      o.listener.adopt(socket);
    },
  });
  idle = setTimeout(() => void server.close(), IDLE_CLOSE_MS);
  return { server, path };
}
