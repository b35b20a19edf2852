/** @module The key a session's transfers use: the node's session key mixed with the two recorders' X25519 agreement, when the peer has an identity key. */
import { mixSessionKey } from "../../crypto/x25519-agreement.ts";
import type { RecorderIdentity } from "./identity-key-file.ts";

/**
 * Replaces the node's session key (base64url) with the mixed one, or keeps it when the node sent no key for the
 * peer (a peer that never published one). Both ends decide alike from what the node told them; if the node tells
 * them different things, the keys differ and the transfer fails to open: a refusal, never a leak.
 */
export async function transferKeyFor(
  me: RecorderIdentity,
  session: { id: string; key: string },
  peer: { publicKey?: string | undefined; role: "caller" | "callee" },
): Promise<string> {
  if (peer.publicKey === undefined) return session.key;
  const callerPublicKey = peer.role === "caller" ? peer.publicKey : me.publicKey;
  const calleePublicKey = peer.role === "callee" ? peer.publicKey : me.publicKey;
  return mixSessionKey({
    sessionKey: session.key,
    sessionId: session.id,
    ownPrivateKey: me.privateKey,
    callerPublicKey,
    calleePublicKey,
    role: peer.role === "caller" ? "callee" : "caller",
  });
}
