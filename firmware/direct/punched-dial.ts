/** @module The caller's punched path: session mapping, hole punch, then a QUIC stream to the callee, ready for REQUEST. */
import type { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import { DirectChannelError } from "./direct-error.ts";
import type { PunchResult } from "./hole-punch.ts";
import { type PunchedPathOptions, punchSession } from "./punch-session.ts";
import type { QuicStreamSocket } from "./quic-stream-socket.ts";
import { connectQuic } from "./quic-transport.ts";

/** A QUIC stream over a punched path, authenticated to the callee's pinned certificate, no byte sent on it yet. */
export interface PunchedTransport {
  socket: QuicStreamSocket;
  path: PunchResult;
  /** When the peer's mapping arrived and the punch confirmed, ms from start. */
  timings: { mappingMs: number; punchMs: number; quicMs: number };
  /** Closes the QUIC connection (also done when the socket closes). */
  close(): Promise<void>;
}

export interface PunchedDial {
  conn: DirectConnection;
  path: PunchResult;
  timings: PunchedTransport["timings"] & { acceptedMs: number };
}

export type { PunchedPathOptions } from "./punch-session.ts";

/** After the punch, the caller leaves the callee this long to move its port to QUIC before the first Initial. */
const HANDOVER_MS = 20;
const QUIC_HANDSHAKE_MS = 2000;

/**
 * Punches toward the callee and opens a QUIC stream on the punched path. Throws DirectChannelError:
 * ERR_DIRECT_PUNCH (no mapping exchange or no confirmed path in time), ERR_DIRECT_CONNECT or
 * ERR_DIRECT_PEER_UNVERIFIED (QUIC); the caller then uses another path or the relay.
 */
export async function openPunchedTransport(o: PunchedPathOptions): Promise<PunchedTransport> {
  const started = performance.now();
  const { local, path, mappingMs } = await punchSession(o, "caller");
  const punchMs = performance.now() - started;
  if (!path.peerFingerprint) {
    throw new DirectChannelError(
      "ERR_DIRECT_PEER_UNVERIFIED",
      "Cannot use punched path: callee sent no fingerprint",
    );
  }
  await Bun.sleep(HANDOVER_MS);
  const client = await connectQuic({
    host: path.remote.address,
    port: path.remote.port,
    localHost: local.address,
    localPort: local.port,
    fingerprint: path.peerFingerprint,
    timeoutMs: QUIC_HANDSHAKE_MS,
  });
  try {
    const socket = await client.openSocket();
    socket.once("close", () => void client.close());
    return {
      socket,
      path,
      timings: { mappingMs, punchMs, quicMs: performance.now() - started },
      close: client.close,
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** openPunchedTransport, then the direct channel's REQUEST/ACCEPTED inside the stream (dialDirect's errors). */
export async function dialPunched(
  o: PunchedPathOptions & { password: string; calleeId: string },
): Promise<PunchedDial> {
  const started = performance.now();
  const t = await openPunchedTransport(o);
  try {
    const conn = await dialDirect({
      host: t.path.remote.address,
      port: t.path.remote.port,
      sessionId: o.session.id,
      password: o.password,
      key: o.session.key,
      callerId: o.deviceId,
      calleeId: o.calleeId,
      timeoutMs: QUIC_HANDSHAKE_MS,
      socket: t.socket,
    });
    return { conn, path: t.path, timings: { ...t.timings, acceptedMs: performance.now() - started } };
  } catch (err) {
    await t.close();
    throw err;
  }
}
