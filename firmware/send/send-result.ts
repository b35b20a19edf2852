/** @module What a send is asked to do (SendOptions), what it reports as it goes (SendEvent) and at the end (SendResult). */
import type { StoreKey } from "../../crypto/hpke-store-key.ts";
import type { DirectPath, SessionGrant, StoreOfferAnswer } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import type { ProtectionMode } from "../library/protection-mode.ts";
import type { PendingFallbackTransfer } from "./pending-fallback-send.ts";
import type { SendPlan } from "./send-plan.ts";

export type SendEvent = { type: "log"; message: string } | { type: "progress"; done: number; total: number };

export interface SendOptions {
  client: ControlClient;
  /** This device's id (the REQUEST identifier) and name (the manifest's sender). */
  deviceId: string;
  deviceName: string;
  plan: SendPlan;
  to: string;
  /** true: accept store-and-forward when the callee is busy; a function: ask (the CLI's y/N prompt). */
  storeIfBusy: boolean | (() => Promise<boolean>);
  dialTimeoutMs?: number;
  /** Replaces the callee's registered address (tests route the direct channel through a proxy). */
  dialOverride?: { host: string; port: number };
  onEvent?: (e: SendEvent) => void;
  /** Checks the callee's identity key against this recorder's pin (firmware/peers); a refusal sends nothing. */
  checkPeer?: (callee: { name: string; publicKey?: string }) => { code: string; message: string } | undefined;
  /** The key this session's transfers use in place of the node's (firmware/identity/transfer-key.ts). */
  transferKey?: (session: { id: string; key: string }, callee: { publicKey?: string }) => Promise<string>;
  /**
   * `send --resume` of a live send: ask the callee (RESUME) what it kept of an interrupted send of this
   * recording and send only the rest (docs/protocol.md 12.6).
   */
  resume?: boolean;
  /** Skips every direct path: the second attempt after a direct path broke mid-transfer (resend-through-relay.ts). */
  relayOnly?: boolean;
  /** Enables the punched path: the node's UDP endpoint and this device's secret (for the session binding). */
  punch?: { node: { host: string; port: number }; secret: Uint8Array };
  /**
   * A store send's transfer is made: what a later `send --resume` needs (the CLI keeps it in the data dir): the
   * session, the transfer, and the HPKE enc and store key the stream is sealed under (none without the callee's
   * identity key, when the stream is sealed under the session's transfer key).
   */
  onStoreTransfer?: (t: {
    session: SessionGrant;
    transfer: { id: string; size: number };
    store: StoreKey | undefined;
  }) => void;
  /**
   * A live send without a direct channel (the fallback) made its relay transfers, before any byte of them is
   * uploaded: what a later `send --resume` needs to re-encode the same sealed streams (pending-fallback-send.ts).
   * `key` is the raw key the streams are sealed under (base64url), `enc` the HPKE enc their prefix carries.
   */
  onFallbackTransfers?: (t: {
    session: SessionGrant;
    key: string;
    enc: Uint8Array | undefined;
    transfers: PendingFallbackTransfer[];
  }) => void;
}

export interface SendResult {
  ok: boolean;
  /** Refusal or failure code: permission_denied, callee_not_found, callee_not_connected, callee_busy, session_ended, ... */
  code?: string;
  message: string;
  mode: "live" | "store" | "none";
  route: SendPlan["route"];
  /** Which rule chose the route: "secret", "size" (the recorder's sealedBelowBytes) or "type". */
  rule: SendPlan["rule"];
  /** The direct connection could not be made and the direct part went through the relay too. */
  fallback: boolean;
  fallbackReason?: string;
  sessionId?: string;
  /** Payload bytes sent on the direct channel (clear, authenticated). */
  bytesDirect: number;
  /** Which path carried bytesDirect: same LAN, port forward (TCP) or punched (QUIC); absent without one. */
  directPath?: DirectPath;
  /** Set on a relay-only second attempt: how the first, direct one broke (its session, path and direct bytes). */
  firstAttempt?: {
    sessionId?: string;
    code?: string;
    message: string;
    directPath?: DirectPath;
    bytesDirect: number;
  };
  /**
   * A resumed live send: bytes of the original the callee already held (kept from the interrupted send), which
   * no stream carried again; bytesDirect and bytesRelay count only what was sent this time.
   */
  resumedFrom?: number;
  /**
   * `send --resume` of a fallback send (resume-fallback-send.ts): sealed bytes of its relay streams the node
   * already held from the interrupted process, which were not uploaded again.
   */
  nodeHeld?: number;
  /** Sealed bytes uploaded to the node (relay stream encoding, framing and tags included). */
  bytesRelay: number;
  /** Payload bytes (of the recording or its split parts) that went through the node, sealed. */
  bytesRelayPayload: number;
  iPictures?: number;
  /**
   * How the direct part was protected (video, and data sent directly): "sealed" (every DATA frame sealed), or a
   * light mode: "seed" (clear, authenticated) or "pattern" (1 in 10 blocks of each P/B slice encrypted).
   */
  protection?: ProtectionMode;
  /** Pattern mode: bytes of the direct part encrypted, and the pattern header's length added to it. */
  patternBytes?: number;
  sha256: string;
  /** The callee's library already held this content, so nothing new was filed (its receipt said so). */
  alreadyHeld?: boolean;
  extensions: number;
  forcedEnd: boolean;
  transfers: string[];
  /** On callee_busy: the node's store offer, or why it cannot store (seed A S2611). */
  store?: StoreOfferAnswer;
}
