/** @module One side's punch for a session: fresh socket, mappings through the node, probes, then the port set free for QUIC. */
import { fromBase64url } from "../../crypto/random-token.ts";
import { type PunchRole, punchKey } from "../../protocol/punch-probe.ts";
import type { TransportAddress } from "../../protocol/stun-address.ts";
import { holePunch, type PunchCandidate, type PunchResult } from "./hole-punch.ts";
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

export interface PunchedSession {
  /** The LAN address and port the punch used: QUIC binds exactly there next. */
  local: TransportAddress;
  path: PunchResult;
  /** When the node named the peer, ms from start. */
  mappingMs: number;
}

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
 * Opens the session socket, learns both mappings from the node, punches, and closes the socket: a QUIC endpoint
 * cannot share its port, and the router's mapping survives the hand-over. Throws ERR_DIRECT_PUNCH.
 */
export async function punchSession(
  o: PunchedPathOptions,
  role: PunchRole,
  fingerprint?: string,
): Promise<PunchedSession> {
  const started = performance.now();
  const mapping = await openSessionMapping({
    node: o.node,
    deviceId: o.deviceId,
    secret: o.secret,
    sessionId: o.session.id,
  });
  const mappingMs = performance.now() - started;
  try {
    const path = await holePunch({
      socket: mapping.socket,
      role,
      sessionId: o.session.id,
      key: punchKey(fromBase64url(o.session.key)),
      candidates: punchCandidates(mapping.answer),
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
      ...(o.lowTtlPhaseMs !== undefined ? { lowTtlPhaseMs: o.lowTtlPhaseMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    return { local: mapping.local, path, mappingMs };
  } finally {
    await mapping.close();
  }
}
