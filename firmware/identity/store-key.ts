/** @module The callee's store key: the HPKE enc a stored transfer carries, opened with this recorder's identity key and mixed with the session's transfer key. */
import { openStoreKey } from "../../crypto/hpke-store-key.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import type { RecorderIdentity } from "./identity-key-file.ts";

/**
 * The raw store key for a stored transfer of this session (crypto/hpke-store-key.ts): `session.key` is the
 * transfer key the keyring holds (transferKeyFor already mixed it). A wrong enc gives a key that opens nothing.
 */
export async function storeKeyFor(
  me: RecorderIdentity,
  session: { id: string; key: string },
  enc: Uint8Array,
): Promise<Uint8Array> {
  const key = await openStoreKey({
    enc,
    calleePrivateKey: me.privateKey,
    calleePublicKey: me.publicKey,
    transferKey: session.key,
    sessionId: session.id,
  });
  return fromBase64url(key);
}
