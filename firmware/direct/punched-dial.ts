/** @module The caller's punched path: session mapping, hole punch, QUIC to the callee, then the direct channel's REQUEST. */
import { fromBase64url } from "../../crypto/random-token.ts";
import { punchKey } from "../../protocol/punch-probe.ts";
import type { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import { DirectChannelError } from "./direct-error.ts";
import { holePunch, type PunchCandidate, type PunchResult } from "./hole-punch.ts";
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
  log?: (message: string) => void;
}

export interface PunchedDial {
  conn: DirectConnection;
  path: PunchResult;
  /** When the peer's mapping arrived, the punch confirmed and the direct channel was accepted, ms from start. */
  timings: { mappingMs: number; punchMs: number; acceptedMs: number };
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
 * Opens the direct channel to the callee over a punched UDP path: throws DirectChannelError (ERR_DIRECT_PUNCH when
 * no path was confirmed in time, ERR_DIRECT_CONNECT / ERR_DIRECT_PEER_UNVERIFIED for QUIC, the dial's codes for
 * REQUEST); the caller then sends through the relay.
 */
export async function dialPunched(
  o: PunchedPathOptions & { password: string; calleeId: string },
): Promise<PunchedDial> {
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
    const conn = await dialDirect({
      host: path.remote.address,
      port: path.remote.port,
      sessionId: o.session.id,
      password: o.password,
      key: o.session.key,
      callerId: o.deviceId,
      calleeId: o.calleeId,
      timeoutMs: QUIC_HANDSHAKE_MS,
      socket: await client.openSocket(),
    });
    void conn.closed.then(() => client.close());
    return { conn, path, timings: { mappingMs, punchMs, acceptedMs: performance.now() - started } };
  } catch (err) {
    await client.close();
    throw err;
  }
}
