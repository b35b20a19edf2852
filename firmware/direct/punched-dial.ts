/** @module The caller's punched path: session mapping, hole punch, then a QUIC stream to the callee, ready for REQUEST. */
import { fromBase64url } from "../../crypto/random-token.ts";
import { punchKey } from "../../protocol/punch-probe.ts";
import type { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import { DirectChannelError } from "./direct-error.ts";
import { holePunch, type PunchCandidate, type PunchResult } from "./hole-punch.ts";
import type { QuicStreamSocket } from "./quic-stream-socket.ts";
import { connectQuic } from "./quic-transport.ts";
import { openSessionMapping } from "./session-mapping.ts";

export interface PunchedPathOptions {
  /** The node's UDP endpoint. */
  node: { host: string; port: number };
  deviceId: string;
  secret: Uint8Array;
  /** From the session answer (caller) or the fetched grant (callee): id and key (base64url). */
  session: { id: string; key: string };
  /** Punch deadline (contract: about 3 s); the mapping exchange and QUIC handshake have their own. */
  deadlineMs?: number;
  /** holePunch's low-TTL phase; benches set 0 to show what it is for. */
  lowTtlPhaseMs?: number;
  log?: (message: string) => void;
}

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

/** After the punch, the caller leaves the callee this long to move its port to QUIC before the first Initial. */
const HANDOVER_MS = 20;
const QUIC_HANDSHAKE_MS = 2000;

/** Both sides list the LAN candidate first: when the node handed one over, the peer sits behind our router. */
export function punchCandidates(answer: {
  peer: { address: string; port: number };
  peerLocal?: { address: string; port: number };
}): PunchCandidate[] {
  const out: PunchCandidate[] = [];
  if (answer.peerLocal)
    out.push({ address: answer.peerLocal.address, port: answer.peerLocal.port, via: "lan" });
  out.push({ address: answer.peer.address, port: answer.peer.port, via: "mapping" });
  return out;
}

/**
 * Punches toward the callee and opens a QUIC stream on the punched path. Throws DirectChannelError:
 * ERR_DIRECT_PUNCH (no mapping exchange or no confirmed path in time), ERR_DIRECT_CONNECT or
 * ERR_DIRECT_PEER_UNVERIFIED (QUIC); the caller then uses another path or the relay.
 */
export async function openPunchedTransport(o: PunchedPathOptions): Promise<PunchedTransport> {
  const started = performance.now();
  const mapping = await openSessionMapping({
    node: o.node,
    deviceId: o.deviceId,
    secret: o.secret,
    sessionId: o.session.id,
  });
  const mappingMs = performance.now() - started;
  let path: PunchResult;
  try {
    path = await holePunch({
      socket: mapping.socket,
      role: "caller",
      sessionId: o.session.id,
      key: punchKey(fromBase64url(o.session.key)),
      candidates: punchCandidates(mapping.answer),
      ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
      ...(o.lowTtlPhaseMs !== undefined ? { lowTtlPhaseMs: o.lowTtlPhaseMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  } finally {
    // The QUIC endpoint takes the port over: it cannot share it with this socket; the router's mapping survives.
    await mapping.close();
  }
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
    localHost: mapping.local.address,
    localPort: mapping.local.port,
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
