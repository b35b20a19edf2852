/** @module Trigger and ACK datagrams between the control node and a device, authenticated with HMAC-SHA256; both sides' codec. */
import { type HmacKey, hmacSha256, tagsEqual } from "../crypto/hmac.ts";
import { randomBytes, toBase64url } from "../crypto/random-token.ts";
import { triggerError } from "./trigger-error.ts";

// Datagram layout (big-endian), the same for a trigger (node -> device) and its ACK (device -> node):
//
//   0  magic "PVTG" (u32)        identifies pvrlink trigger traffic on the shared UDP port; its first byte
//                                (0x50) lies outside STUN's 0-3 (RFC 7983 7), so the two never collide
//   4  version (u8) = 1
//   5  type (u8)                 1 trigger, 2 ACK
//   6  body length n (u16)
//   8  trigger id (16 bytes)     CSPRNG; the ACK repeats the trigger's id
//  24  timestamp (u64)           sender's clock, unix ms
//  32  body (n bytes)            UTF-8 JSON: trigger {"device","kind","ref"}, ACK {"device","answer"?}
//  32+n tag (32 bytes)           HMAC-SHA256(deriveKey(secret, "trigger"), bytes 0 .. 32+n)
//
// The type byte is inside the MAC, so a trigger reflected back at the node can never pass as its ACK.

export const TRIGGER_MAGIC = 0x50565447;
export const TRIGGER_VERSION = 1;
export const TYPE_TRIGGER = 1;
export const TYPE_ACK = 2;
export const TRIGGER_ID_BYTES = 16;
export const TRIGGER_HEADER_BYTES = 32;
export const TRIGGER_TAG_BYTES = 32;
/** Keeps a trigger inside one unfragmented datagram on any path (IPv6 minimum MTU 1280, RFC 8200 5). */
export const TRIGGER_MAX_BYTES = 1200;
/** A datagram whose timestamp is further than this from the receiver's clock is refused (same window as HTTP). */
export const TRIGGER_WINDOW_MS = 60_000;
/** Longest ACK answer accepted; the defined answers are short words. */
export const ANSWER_MAX_CHARS = 64;

export const TRIGGER_KINDS = ["contact", "status", "verdict", "end", "data", "list"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** A verified trigger. */
export interface Trigger {
  readonly id: string;
  readonly deviceId: string;
  readonly kind: TriggerKind;
  readonly ref: Record<string, unknown>;
  readonly timestamp: number;
}

/** A verified ACK; `answer` carries "acceptable" | "busy" for status and "allow" | "deny" for verdict. */
export interface TriggerAck {
  readonly id: string;
  readonly deviceId: string;
  readonly answer?: string;
  readonly timestamp: number;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** One datagram before signing: its type, 16-byte id, unix-ms timestamp and JSON body. */
interface Frame {
  type: number;
  id: Uint8Array;
  timestamp: number;
  body: unknown;
}

/** Who a received datagram must be addressed to, and when it is checked. */
export interface TriggerCheck {
  deviceId: string;
  /** Unix ms the timestamp window is measured from. */
  now: number;
}

/** 2^32, for the u64 timestamp's two halves (a unix-ms value is below 2^53, so both are exact). */
const TWO_32 = 0x1_0000_0000;
/** The high half of the largest timestamp accepted: 2^53 - 1 ms (Number.MAX_SAFE_INTEGER). */
const MAX_TIMESTAMP_HIGH = 0x1f_ffff;

/**
 * The header and body are written byte by byte into an array of their own, which the MAC then reads whole: a
 * DataView or a subarray of a small fresh array makes JavaScriptCore give it an ArrayBuffer first (a copy), which
 * cost more than the rest of the encoding (docs/benchmarks.md, the keepalive path's "Views that copy").
 */
function encode({ type, id, timestamp, body }: Frame, key: HmacKey): Uint8Array {
  if (id.byteLength !== TRIGGER_ID_BYTES)
    throw new RangeError(`Cannot encode trigger: id length ${id.byteLength}`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`Cannot encode trigger: timestamp ${timestamp} is not a unix ms value`);
  }
  const json = utf8.encode(JSON.stringify(body));
  const size = TRIGGER_HEADER_BYTES + json.byteLength + TRIGGER_TAG_BYTES;
  if (size > TRIGGER_MAX_BYTES) {
    throw new RangeError(`Cannot encode trigger: ${size} bytes exceed ${TRIGGER_MAX_BYTES}; keep ref small`);
  }
  const signed = new Uint8Array(TRIGGER_HEADER_BYTES + json.byteLength);
  writeU32(signed, 0, TRIGGER_MAGIC);
  signed[4] = TRIGGER_VERSION;
  signed[5] = type;
  signed[6] = json.byteLength >>> 8;
  signed[7] = json.byteLength & 0xff;
  signed.set(id, 8);
  writeU32(signed, 24, Math.floor(timestamp / TWO_32));
  writeU32(signed, 28, timestamp >>> 0);
  signed.set(json, TRIGGER_HEADER_BYTES);
  const out = new Uint8Array(size);
  out.set(signed);
  out.set(hmacSha256(key, signed), signed.byteLength);
  return out;
}

function writeU32(to: Uint8Array, at: number, v: number): void {
  to[at] = v >>> 24;
  to[at + 1] = (v >>> 16) & 0xff;
  to[at + 2] = (v >>> 8) & 0xff;
  to[at + 3] = v & 0xff;
}

function readU32(from: Uint8Array, at: number): number {
  return ((from[at]! << 24) | (from[at + 1]! << 16) | (from[at + 2]! << 8) | from[at + 3]!) >>> 0;
}

/** Builds a trigger for deviceId under its trigger key; a fresh CSPRNG id unless one is given (retries reuse it). */
export function encodeTrigger(
  t: { deviceId: string; kind: TriggerKind; ref: Record<string, unknown>; timestamp: number; id?: string },
  key: HmacKey,
): { bytes: Uint8Array; id: string } {
  const id =
    t.id === undefined ? randomBytes(TRIGGER_ID_BYTES) : new Uint8Array(Buffer.from(t.id, "base64url"));
  const bytes = encode(
    {
      type: TYPE_TRIGGER,
      id,
      timestamp: t.timestamp,
      body: { device: t.deviceId, kind: t.kind, ref: t.ref },
    },
    key,
  );
  return { bytes, id: toBase64url(id) };
}

/** Builds the ACK a device returns for trigger `id`, with its answer where the kind asks for one. */
export function encodeTriggerAck(
  a: { id: string; deviceId: string; answer?: string; timestamp: number },
  key: HmacKey,
): Uint8Array {
  if (a.answer !== undefined && a.answer.length > ANSWER_MAX_CHARS) {
    throw new RangeError(`Cannot encode ACK: answer longer than ${ANSWER_MAX_CHARS}`);
  }
  const body = a.answer === undefined ? { device: a.deviceId } : { device: a.deviceId, answer: a.answer };
  const id = new Uint8Array(Buffer.from(a.id, "base64url"));
  return encode({ type: TYPE_ACK, id, timestamp: a.timestamp, body }, key);
}

/** True when the datagram starts with the trigger magic (cheap demultiplexing before any crypto). */
export function isTriggerDatagram(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && readU32(bytes, 0) === TRIGGER_MAGIC;
}

/**
 * Reads the unauthenticated header: type and id, so the node can find the pending trigger (and its key) an ACK
 * claims to answer. Returns null for anything malformed. Nothing here is trusted until verify*() passes.
 */
export function peekTriggerDatagram(bytes: Uint8Array): { type: number; id: string } | null {
  try {
    const h = readHeader(bytes);
    return { type: h.type, id: h.id };
  } catch {
    return null;
  }
}

function readHeader(bytes: Uint8Array) {
  if (bytes.byteLength < TRIGGER_HEADER_BYTES + TRIGGER_TAG_BYTES || bytes.byteLength > TRIGGER_MAX_BYTES) {
    throw triggerError("ERR_TRIGGER_MALFORMED", `Cannot parse trigger datagram: length ${bytes.byteLength}`);
  }
  if (readU32(bytes, 0) !== TRIGGER_MAGIC)
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger: bad magic");
  const version = bytes[4]!;
  if (version !== TRIGGER_VERSION) {
    throw triggerError("ERR_TRIGGER_MALFORMED", `Cannot parse trigger: version ${version} is not 1`);
  }
  const type = bytes[5]!;
  if (type !== TYPE_TRIGGER && type !== TYPE_ACK) {
    throw triggerError("ERR_TRIGGER_MALFORMED", `Cannot parse trigger: type ${type} is not 1 or 2`);
  }
  const bodyLength = (bytes[6]! << 8) | bytes[7]!;
  if (TRIGGER_HEADER_BYTES + bodyLength + TRIGGER_TAG_BYTES !== bytes.byteLength) {
    throw triggerError(
      "ERR_TRIGGER_MALFORMED",
      `Cannot parse trigger: body length ${bodyLength} disagrees with size`,
    );
  }
  const high = readU32(bytes, 24);
  if (high > MAX_TIMESTAMP_HIGH)
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger: timestamp is beyond 2^53 ms");
  return {
    type,
    id: toBase64url(bytes.subarray(8, 8 + TRIGGER_ID_BYTES)),
    timestamp: high * TWO_32 + readU32(bytes, 28),
    bodyLength,
  };
}

/** Checks tag, then timestamp window, then body shape; returns the parsed JSON body. Order matters: no parsing before the MAC. */
function verify(bytes: Uint8Array, key: HmacKey, { type, deviceId, now }: TriggerCheck & { type: number }) {
  const h = readHeader(bytes);
  if (h.type !== type)
    throw triggerError("ERR_TRIGGER_MALFORMED", `Cannot accept datagram: type ${h.type} not ${type}`);
  const signed = TRIGGER_HEADER_BYTES + h.bodyLength;
  const mac = hmacSha256(key, bytes.subarray(0, signed));
  if (!tagsEqual(mac, bytes.subarray(signed, signed + TRIGGER_TAG_BYTES))) {
    throw triggerError("ERR_TRIGGER_BAD_TAG", "Cannot accept datagram: authentication failed");
  }
  if (Math.abs(now - h.timestamp) > TRIGGER_WINDOW_MS) {
    throw triggerError(
      "ERR_TRIGGER_STALE",
      `Cannot accept datagram: timestamp is ${now - h.timestamp} ms off`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(utf8Strict.decode(bytes.subarray(TRIGGER_HEADER_BYTES, signed)));
  } catch {
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger body: not UTF-8 JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger body: not a JSON object");
  }
  const b = body as Record<string, unknown>;
  if (b.device !== deviceId) {
    throw triggerError("ERR_TRIGGER_WRONG_DEVICE", "Cannot accept datagram: addressed to another device");
  }
  return { header: h, body: b };
}

/** Device side: verifies a trigger addressed to deviceId under its trigger key. Throws TriggerError (trigger-error.ts). */
export function verifyTrigger(bytes: Uint8Array, key: HmacKey, check: TriggerCheck): Trigger {
  const { deviceId } = check;
  const { header, body } = verify(bytes, key, { ...check, type: TYPE_TRIGGER });
  const kind = body.kind;
  if (typeof kind !== "string" || !(TRIGGER_KINDS as readonly string[]).includes(kind)) {
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger body: unknown kind");
  }
  const ref = body.ref;
  if (typeof ref !== "object" || ref === null || Array.isArray(ref)) {
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse trigger body: ref is not an object");
  }
  return {
    id: header.id,
    deviceId,
    kind: kind as TriggerKind,
    ref: ref as Record<string, unknown>,
    timestamp: header.timestamp,
  };
}

/** Node side: verifies deviceId's ACK under its trigger key. Throws TriggerError (trigger-error.ts). */
export function verifyTriggerAck(bytes: Uint8Array, key: HmacKey, check: TriggerCheck): TriggerAck {
  const { deviceId } = check;
  const { header, body } = verify(bytes, key, { ...check, type: TYPE_ACK });
  const answer = body.answer;
  if (answer !== undefined && (typeof answer !== "string" || answer.length > ANSWER_MAX_CHARS)) {
    throw triggerError("ERR_TRIGGER_MALFORMED", "Cannot parse ACK body: answer is not a short string");
  }
  return answer === undefined
    ? { id: header.id, deviceId, timestamp: header.timestamp }
    : { id: header.id, deviceId, answer, timestamp: header.timestamp };
}

/**
 * Device side replay guard: remembers trigger ids for twice the window. A retransmitted trigger (same id, the
 * node retries until ACKed) is "duplicate": the device ACKs it again but must not act on it twice.
 */
export class TriggerReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  constructor(maxEntries = 4096) {
    this.#maxEntries = maxEntries;
  }
  admit(trigger: Trigger, now: number): "new" | "duplicate" {
    for (const [id, expires] of this.#seen) {
      if (expires > now) break;
      this.#seen.delete(id);
    }
    if (this.#seen.has(trigger.id)) return "duplicate";
    // A full table evicts the oldest id, which could then be replayed inside the window; the node sends a device
    // a handful of triggers per minute, so maxEntries is far above anything an honest node reaches.
    if (this.#seen.size >= this.#maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(trigger.id, now + 2 * TRIGGER_WINDOW_MS);
    return "new";
  }
}
