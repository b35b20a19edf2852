/** @module The relay seal to the callee's identity key (HPKE), for what no live direct channel carries: a store, a fallback. */
import { type StoreKey, sealStoreKey } from "../../crypto/hpke-store-key.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import type { RelaySeal } from "./relay-upload.ts";

/**
 * HPKE to the callee's identity key, mixed with the transfer key (session.key, which calleeTrusted has replaced;
 * crypto/hpke-store-key.ts): the streams sealed under it open only with the callee's private key, and carry the
 * enc in their prefix. `store` is what a store send keeps for `send --resume`. A callee that never published an
 * identity key gets undefined: its streams stay under the transfer key alone, as before HPKE.
 */
export async function sealToCallee(
  session: { id: string; key: string },
  callee: { publicKey?: string },
): Promise<{ store: StoreKey; seal: RelaySeal } | undefined> {
  if (callee.publicKey === undefined) return undefined;
  const store = await sealStoreKey({
    calleePublicKey: callee.publicKey,
    transferKey: session.key,
    sessionId: session.id,
  });
  const key = await relayKey(fromBase64url(store.key));
  return { store, seal: { key, sessionId: session.id, storeEnc: store.enc } };
}
