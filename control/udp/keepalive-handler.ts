/** @module The node side of the keepalive: answers STUN Binding Requests and authenticates pvrlink keepalives. */
import { deriveKey, type HmacKey, prepareHmacKey } from "../../crypto/hmac.ts";
import {
  DEFAULT_KEEPALIVE_INTERVAL_SEC,
  KEEPALIVE_WINDOW_MS,
  MAX_KEEPALIVE_INTERVAL_SEC,
  MIN_KEEPALIVE_INTERVAL_SEC,
} from "../../protocol/keepalive-request.ts";
import { SESSION_ID_MAX_BYTES } from "../../protocol/session-binding.ts";
import {
  decodeXorMappedAddress,
  encodeXorMappedAddress,
  type TransportAddress,
  toTransportAddress,
} from "../../protocol/stun-address.ts";
import {
  decodeText,
  decodeU32,
  decodeU64,
  encodeErrorCode,
  encodeText,
  encodeUnknownAttributes,
  unknownComprehensionRequired,
} from "../../protocol/stun-attributes.ts";
import {
  ATTR_ERROR_CODE,
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_PVRLINK_INTERVAL,
  ATTR_PVRLINK_LOCAL_ADDRESS,
  ATTR_PVRLINK_PEER_ADDRESS,
  ATTR_PVRLINK_PEER_LOCAL_ADDRESS,
  ATTR_PVRLINK_SESSION,
  ATTR_PVRLINK_TIMESTAMP,
  ATTR_SOFTWARE,
  ATTR_UNKNOWN_ATTRIBUTES,
  ATTR_USERNAME,
  ATTR_XOR_MAPPED_ADDRESS,
  BINDING_ERROR,
  BINDING_SUCCESS,
  CLASS_ERROR,
  CLASS_REQUEST,
  ERROR_BAD_REQUEST,
  ERROR_FORBIDDEN,
  ERROR_UNAUTHENTICATED,
  ERROR_UNKNOWN_ATTRIBUTE,
  METHOD_BINDING,
  USERNAME_MAX_BYTES,
} from "../../protocol/stun-constants.ts";
import { checkFingerprint, verifyMessageIntegritySha256 } from "../../protocol/stun-integrity.ts";
import {
  decodeStunMessage,
  encodeStunMessage,
  findAttribute,
  joinMessageType,
  type StunMessage,
} from "../../protocol/stun-message.ts";
import { ReplayCache } from "./replay-cache.ts";
import type { RendezvousAnswer } from "./session-rendezvous.ts";

/** Comprehension-required attributes a Binding Request may carry without earning a 420 (RFC 8489 7.3.1). */
const KNOWN_REQUIRED = new Set([
  ATTR_USERNAME,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTR_PVRLINK_SESSION,
]);
/** SOFTWARE value the node puts in responses (RFC 8489 14.14). */
const SOFTWARE = encodeText("pvrlink-control");

/** A Binding Success Response with the request's source as XOR-MAPPED-ADDRESS (RFC 8489 7.3.1.1, 14.2). */
function bindingSuccess(
  msg: StunMessage,
  mapped: Parameters<typeof encodeXorMappedAddress>[0],
  o: {
    integritySha256Key?: HmacKey;
    fingerprint: boolean;
    /** Attributes after SOFTWARE, e.g. a session binding's peer addresses. */
    extra?: Array<{ type: number; value: Uint8Array }>;
  },
): Uint8Array {
  const attributes = [
    { type: ATTR_XOR_MAPPED_ADDRESS, value: encodeXorMappedAddress(mapped, msg.transactionId) },
    { type: ATTR_SOFTWARE, value: SOFTWARE },
  ];
  if (o.extra) attributes.push(...o.extra);
  // Named fields, not a rest spread of o: that copy showed in the node's profile once per keepalive answer.
  const { integritySha256Key: key, fingerprint } = o;
  const transactionId = msg.transactionId;
  return key
    ? encodeStunMessage({
        type: BINDING_SUCCESS,
        transactionId,
        attributes,
        integritySha256Key: key,
        fingerprint,
      })
    : encodeStunMessage({ type: BINDING_SUCCESS, transactionId, attributes, fingerprint });
}

/** The 12 transaction-id bytes (RFC 8489 5) as a 12-character string, without spreading them into an arguments list. */
function transactionKey(t: Uint8Array): string {
  return String.fromCharCode(
    t[0]!,
    t[1]!,
    t[2]!,
    t[3]!,
    t[4]!,
    t[5]!,
    t[6]!,
    t[7]!,
    t[8]!,
    t[9]!,
    t[10]!,
    t[11]!,
  );
}

/** #verifiedKey's answer when the lookup has no secret for the device (as opposed to a MAC that fails). */
const UNKNOWN = Symbol("unknown device");

/** Where a datagram came from: its source address and port as the socket saw them. */
export interface DatagramSource {
  readonly address: string;
  readonly port: number;
}

/** What an error response says: STUN error code and reason phrase, FINGERPRINT or not, and a log note. */
interface ErrorReply {
  code: number;
  reason: string;
  fingerprint: boolean;
  note: string;
  /** The comprehension-required attributes a 420 lists (RFC 8489 14.9). */
  unknown?: number[];
}

/** An authenticated keepalive: who, from which public mapping, at what announced interval. */
export interface Registration {
  readonly deviceId: string;
  readonly address: string;
  readonly port: number;
  readonly intervalSec: number;
}

/** Records a session binding and returns the peer's addresses, or null if the device is no party to the session. */
export type SessionBinder = (
  deviceId: string,
  sessionId: string,
  seen: { mapped: TransportAddress; local?: TransportAddress; now: number },
) => RendezvousAnswer | null | undefined;

/** What the handler decided: the datagram to send back (if any), the registration (if authenticated), and why. */
export interface KeepaliveOutcome {
  readonly reply: Uint8Array | null;
  readonly registration: Registration | null;
  /** Short reason for logs; never contains key material. */
  readonly note: string;
  /** Set for an authenticated session binding (never a keepalive: it moves no trigger mapping). */
  readonly sessionBinding?: { deviceId: string; sessionId: string };
  /** Set when the USERNAME named a device whose secret the lookup did not have (not loaded, or no such device). */
  readonly unknownDevice?: string;
  /** Set when an authenticated session binding named a session the parties lookup had not loaded. */
  readonly unknownSession?: string;
}

/**
 * Stateless apart from the transaction-id replay cache, which only authenticated requests touch. Throws StunError
 * for undecodable datagrams; the caller drops those silently as RFC 8489 6.3 asks.
 */
export class KeepaliveHandler {
  readonly #lookupSecret: (deviceId: string) => Uint8Array | null;
  readonly #replays = new ReplayCache(2 * KEEPALIVE_WINDOW_MS);
  /**
   * Derived STUN keys of devices that have authenticated, so a steady keepalive costs one HMAC, not HKDF + lookup;
   * held as node:crypto KeyObjects, so neither of its two HMACs (request and answer) imports the key again.
   */
  readonly #keys = new Map<string, { secret: Uint8Array; key: HmacKey }>();
  readonly #maxCachedKeys: number;
  #bindSession: SessionBinder | undefined;

  constructor(lookupSecret: (deviceId: string) => Uint8Array | null, maxCachedKeys = 200_000) {
    this.#lookupSecret = lookupSecret;
    this.#maxCachedKeys = maxCachedKeys;
  }

  /** Enables session bindings (PVRLINK-SESSION); without a binder they are refused as 403. */
  set sessionBinder(binder: SessionBinder | undefined) {
    this.#bindSession = binder;
  }

  handle(bytes: Uint8Array, { address, port }: DatagramSource, now: number): KeepaliveOutcome {
    const msg = decodeStunMessage(bytes);
    if (checkFingerprint(msg) === "bad") return { reply: null, registration: null, note: "bad fingerprint" };
    if (msg.cls !== CLASS_REQUEST) return { reply: null, registration: null, note: "not a request" };
    const withFp = findAttribute(msg, ATTR_FINGERPRINT) !== undefined;
    if (msg.method !== METHOD_BINDING) {
      return this.#error(msg, {
        code: ERROR_BAD_REQUEST,
        reason: "Bad Request",
        fingerprint: withFp,
        note: "unsupported method",
      });
    }
    const unknown = unknownComprehensionRequired(msg, KNOWN_REQUIRED);
    if (unknown.length > 0) {
      return this.#error(msg, {
        code: ERROR_UNKNOWN_ATTRIBUTE,
        reason: "Unknown Attribute",
        fingerprint: withFp,
        note: "unknown attributes",
        unknown,
      });
    }
    const mapped = toTransportAddress(address, port);
    const username = findAttribute(msg, ATTR_USERNAME);
    const claimsAuth =
      username !== undefined ||
      findAttribute(msg, ATTR_MESSAGE_INTEGRITY) !== undefined ||
      findAttribute(msg, ATTR_MESSAGE_INTEGRITY_SHA256) !== undefined;
    if (!claimsAuth) {
      // A plain Binding Request, answered as any STUN server would (RFC 8489 7.3.1.1), and nothing is recorded.
      return {
        reply: bindingSuccess(msg, mapped, { fingerprint: withFp }),
        registration: null,
        note: "plain binding",
      };
    }
    const deny = (note: string, reason = "Unauthenticated") =>
      this.#error(msg, { code: ERROR_UNAUTHENTICATED, reason, fingerprint: withFp, note });
    if (!username) return deny("integrity without USERNAME");
    let deviceId: string;
    try {
      deviceId = decodeText(username.value, USERNAME_MAX_BYTES);
    } catch {
      return deny("USERNAME not UTF-8");
    }
    const key = this.#verifiedKey(msg, deviceId);
    if (key === UNKNOWN) return { ...deny("unknown device or bad integrity"), unknownDevice: deviceId };
    if (!key) return deny("unknown device or bad integrity");
    // Only now, with the MAC verified, are the pvrlink attributes trusted and per-device state touched.
    const tsAttr = findAttribute(msg, ATTR_PVRLINK_TIMESTAMP);
    let ts: number;
    try {
      if (!tsAttr) return deny("no timestamp", "Missing Timestamp");
      ts = decodeU64(tsAttr.value);
    } catch {
      return deny("bad timestamp", "Bad Timestamp");
    }
    if (Math.abs(now - ts) > KEEPALIVE_WINDOW_MS) return deny("stale timestamp", "Stale Timestamp");
    // The 12 transaction-id bytes as a 12-character string: a Map key without a Buffer and a base64 pass.
    const txKey = transactionKey(msg.transactionId);
    if (!this.#replays.admit(deviceId, txKey, now))
      return deny("replayed transaction", "Replayed Transaction");
    const sessionAttr = findAttribute(msg, ATTR_PVRLINK_SESSION);
    if (sessionAttr)
      return this.#sessionBinding(msg, { deviceId, key, mapped, sessionAttr: sessionAttr.value, now, txKey });
    let intervalSec = DEFAULT_KEEPALIVE_INTERVAL_SEC;
    const ivAttr = findAttribute(msg, ATTR_PVRLINK_INTERVAL);
    if (ivAttr) {
      try {
        intervalSec = decodeU32(ivAttr.value);
      } catch {
        intervalSec = DEFAULT_KEEPALIVE_INTERVAL_SEC;
      }
    }
    intervalSec = Math.min(MAX_KEEPALIVE_INTERVAL_SEC, Math.max(MIN_KEEPALIVE_INTERVAL_SEC, intervalSec));
    const reply = bindingSuccess(msg, mapped, { integritySha256Key: key, fingerprint: true });
    return {
      reply,
      registration: { deviceId, address: mapped.address, port: mapped.port, intervalSec },
      note: "authenticated keepalive",
    };
  }

  #sessionBinding(
    msg: StunMessage,
    o: {
      deviceId: string;
      key: HmacKey;
      mapped: TransportAddress;
      sessionAttr: Uint8Array;
      now: number;
      txKey: string;
    },
  ): KeepaliveOutcome {
    const forbid = (note: string) =>
      this.#error(msg, { code: ERROR_FORBIDDEN, reason: "Forbidden", fingerprint: true, note });
    let sessionId: string;
    let local: TransportAddress | undefined;
    try {
      sessionId = decodeText(o.sessionAttr, SESSION_ID_MAX_BYTES);
      const localAttr = findAttribute(msg, ATTR_PVRLINK_LOCAL_ADDRESS);
      local = localAttr ? decodeXorMappedAddress(localAttr.value, msg.transactionId) : undefined;
    } catch {
      return this.#error(msg, {
        code: ERROR_BAD_REQUEST,
        reason: "Bad Request",
        fingerprint: true,
        note: "bad session binding attribute",
      });
    }
    if (!this.#bindSession) return forbid("session binding without a rendezvous");
    const answer = this.#bindSession(o.deviceId, sessionId, {
      mapped: o.mapped,
      ...(local ? { local } : {}),
      now: o.now,
    });
    if (answer === undefined) {
      // Handled again once the session is loaded (udp-endpoint.ts): that pass is this request, not a replay.
      this.#replays.forget(o.deviceId, o.txKey);
      return { reply: null, registration: null, note: "session not loaded", unknownSession: sessionId };
    }
    if (!answer) return forbid("session binding for a session the device is not in");
    const extra: Array<{ type: number; value: Uint8Array }> = [];
    if (answer.peer) {
      extra.push({
        type: ATTR_PVRLINK_PEER_ADDRESS,
        value: encodeXorMappedAddress(answer.peer, msg.transactionId),
      });
    }
    if (answer.peerLocal) {
      extra.push({
        type: ATTR_PVRLINK_PEER_LOCAL_ADDRESS,
        value: encodeXorMappedAddress(answer.peerLocal, msg.transactionId),
      });
    }
    return {
      reply: bindingSuccess(msg, o.mapped, { integritySha256Key: o.key, fingerprint: true, extra }),
      registration: null,
      note: "session binding",
      sessionBinding: { deviceId: o.deviceId, sessionId },
    };
  }

  /** The device's STUN key if msg's MESSAGE-INTEGRITY-SHA256 verifies under it, else null. */
  #verifiedKey(msg: StunMessage, deviceId: string): HmacKey | null | typeof UNKNOWN {
    // A cached key counts only while the device still has the secret it came from (issue 21 item 4): a
    // deleted device's keepalives go unanswered at once. The lookup is a cached map read, after the MAC passed.
    const cached = this.#keys.get(deviceId);
    if (cached && verifyMessageIntegritySha256(msg, cached.key)) {
      if (this.#lookupSecret(deviceId) === cached.secret) return cached.key;
    }
    const secret = this.#lookupSecret(deviceId);
    if (!secret) {
      this.#keys.delete(deviceId);
      return UNKNOWN;
    }
    const key = prepareHmacKey(deriveKey(secret, "stun"));
    if (!verifyMessageIntegritySha256(msg, key)) return null;
    if (!cached && this.#keys.size >= this.#maxCachedKeys) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.set(deviceId, { secret, key });
    return key;
  }

  /** Forgets a device's cached key, e.g. after its secret was rotated or it was deleted. */
  forget(deviceId: string): void {
    this.#keys.delete(deviceId);
  }

  #error(msg: StunMessage, { code, reason, fingerprint, note, unknown }: ErrorReply) {
    const attributes = [{ type: ATTR_ERROR_CODE, value: encodeErrorCode(code, reason) }];
    if (unknown) attributes.push({ type: ATTR_UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes(unknown) });
    const reply = encodeStunMessage({
      type: msg.method === METHOD_BINDING ? BINDING_ERROR : joinMessageType(msg.method, CLASS_ERROR),
      transactionId: msg.transactionId,
      attributes,
      fingerprint,
    });
    return { reply, registration: null, note };
  }
}
