/** @module SendContext: what the named steps of one send share, built once when the node has granted the session. */
import type { StoreKey } from "../../crypto/hpke-store-key.ts";
import type { SessionGrant } from "../../protocol/api-types.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import type { LeaseKeeper } from "./lease-keeper.ts";
import type { LiveRelay } from "./live-relay.ts";
import type { RelayUploadContext } from "./relay-upload.ts";
import type { SendPlan } from "./send-plan.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

export interface SendContext {
  readonly options: SendOptions;
  readonly plan: SendPlan;
  /** Filled in by the steps as they go; what sendRecording() returns. */
  readonly result: SendResult;
  readonly session: SessionGrant;
  /** publicKey: its X25519 identity key, which a fallback's relay streams are sealed to (HPKE). */
  readonly callee: { id: string; name: string; publicKey?: string };
  /** A store session to a callee with an identity key: the HPKE enc and the store key its stream is sealed under. */
  readonly store: StoreKey | undefined;
  /** The relay side's view of this send: the node, the plan, the session's seal, the abort signal, the lease. */
  readonly relay: RelayUploadContext;
  /** Aborted with a SendFailure when the node or the peer ends the session under the send. */
  readonly abort: AbortController;
  readonly lease: LeaseKeeper;
  /** The relay streams pass 2 of a split feeds; a failed send ends their PUTs. */
  readonly live: LiveRelay[];
  /** A resumed live send (live-resume.ts): the bytes of the original the callee holds; nothing of them is sent. */
  resume: { held: number } | undefined;
  /**
   * A light-mode (pattern) direct part goes sealed instead: the callee's ACCEPTED does not list the pattern header
   * version the plan needs (an older pvrlink), so it could not decode it. Sealing is the stronger protection.
   */
  sealInstead: boolean;
  /** The direct channel, once dialled (none in a fallback or a store). */
  conn: DirectConnection | undefined;
  /** How the node says the session ended, once the lease watch has seen it. */
  endedReason: string | undefined;
  /** True while the send waits for the callee's own "done" end (no direct channel): that end is not forced. */
  awaitingPeerEnd: boolean;
  /** Wakes that wait when the session ends. */
  peerEnded: (() => void) | undefined;
  log(message: string): void;
}
