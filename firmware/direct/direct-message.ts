/** @module The typed messages inside sealed direct-channel frames, and their strict encoding. */
import { DirectChannelError } from "./direct-error.ts";
import { MAX_DATA_BYTES } from "./direct-frame.ts";

// Plaintext of a frame: type (u8) || body. DATA bodies are raw bytes; all others are UTF-8 JSON objects.
/** Handshake (seed A FIG. 5(f)): caller -> callee, {id, password, nonce}. */
export const TYPE_REQUEST = 0x01;
/** Handshake: callee -> caller, {nonce (echoed), calleeNonce, expiresAt}. */
export const TYPE_ACCEPTED = 0x02;
/** Handshake: callee -> caller, {code}; the callee then closes. */
export const TYPE_DENIED = 0x03;
/** Announces a payload: {kind, size, name, meta?}. */
export const TYPE_OFFER = 0x10;
/** Raw payload bytes, at most MAX_DATA_BYTES. */
export const TYPE_DATA = 0x11;
/** Ends a payload: {size?, sha256?}. */
export const TYPE_END = 0x12;
/** The receiver's verdict on a payload: {ok, bytes, sha256?, code?}. */
export const TYPE_RECEIPT = 0x13;
/** Orderly close: {reason}; "done" for a normal end, else e.g. "expired", "ended". */
export const TYPE_CLOSE = 0x14;
/**
 * Raw payload bytes in clear with a GMAC tag (a clear frame, see direct-frame.ts CLEAR_FRAME_FLAG): for content
 * that is not confidential (seed A: only I-pictures and secret data are encrypted), still integrity-protected.
 */
export const TYPE_DATA_CLEAR = 0x15;
/**
 * A resumed live send asks, before its OFFER: caller -> callee, {sha256, kind, size, protection, directSize?}
 * (docs/protocol.md 12.6). Sent only to a callee whose ACCEPTED said `resume: true`.
 */
export const TYPE_RESUME = 0x16;
/** The callee's answer to RESUME: {held}, bytes of the original it holds for this caller and shape (0: none). */
export const TYPE_HELD = 0x17;

/** JSON bodies are small; a bigger one is an attack or a bug. */
const MAX_JSON_BYTES = 64 * 1024;
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const CODE = /^[a-z0-9_]{1,64}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** A raw 32-byte X25519 public key in base64url without padding (RFC 7748 5). */
const EPHEMERAL_KEY = /^[A-Za-z0-9_-]{43}$/;

export interface RequestMessage {
  type: "request";
  id: string;
  password: string;
  nonce: string;
  /** The caller's ephemeral X25519 public key (base64url); with the callee's, frames after ACCEPTED are forward-secret. */
  eph?: string;
}
export interface AcceptedMessage {
  type: "accepted";
  nonce: string;
  calleeNonce: string;
  /** Session end, unix ms; the callee closes the channel then unless the session is extended. */
  expiresAt: number;
  /** The callee's ephemeral X25519 public key, when the REQUEST carried one. */
  eph?: string;
  /** The callee's one-time password (seed A variation 9), which the caller checks before sending data. */
  password?: string;
  /** The callee answers RESUME (docs/protocol.md 12.6); absent from an older callee, which is never asked. */
  resume?: boolean;
  /**
   * The pattern header versions the callee reads (docs/split-format.md); absent from an older callee, which
   * reads version 1 only. A caller whose plan needs another version sends that part sealed instead.
   */
  patternVersions?: number[];
}
export interface DeniedMessage {
  type: "denied";
  code: string;
}
export interface OfferMessage {
  type: "offer";
  /** What the payload is, e.g. "recording" or "direct-part"; the wiring decides the vocabulary. */
  kind: string;
  size: number;
  name: string;
  meta?: Record<string, unknown>;
}
export interface DataMessage {
  type: "data";
  bytes: Uint8Array;
  /** Travels as a clear frame (TYPE_DATA_CLEAR): authenticated, not encrypted. */
  clear?: boolean;
}
export interface EndMessage {
  type: "end";
  size?: number;
  sha256?: string;
}
export interface ReceiptMessage {
  type: "receipt";
  ok: boolean;
  bytes: number;
  sha256?: string;
  code?: string;
  /** The callee's library already held this content: nothing new was filed (issue 19 item 8). Absent: filed. */
  held?: boolean;
}
/** What a resumed send is: the partial a callee may hold is reused only for exactly this recording and shape. */
export interface ResumeMessage {
  type: "resume";
  sha256: string;
  /** The OFFER kind that follows: data, split or relay. */
  kind: string;
  size: number;
  protection: string;
  /** A split's direct part size as the OFFER states it. */
  directSize?: number;
}
export interface HeldMessage {
  type: "held";
  /** Bytes of the original the callee holds, fsynced: the sender sends only what follows. */
  held: number;
}
export interface CloseMessage {
  type: "close";
  reason: string;
}

export type HandshakeMessage = RequestMessage | AcceptedMessage | DeniedMessage;
/** What the application sends and receives after the handshake. */
export type DirectMessage =
  | OfferMessage
  | DataMessage
  | EndMessage
  | ReceiptMessage
  | ResumeMessage
  | HeldMessage;
export type WireMessage = HandshakeMessage | DirectMessage | CloseMessage;

const TYPES: Record<WireMessage["type"], number> = {
  request: TYPE_REQUEST,
  accepted: TYPE_ACCEPTED,
  denied: TYPE_DENIED,
  offer: TYPE_OFFER,
  data: TYPE_DATA,
  end: TYPE_END,
  receipt: TYPE_RECEIPT,
  close: TYPE_CLOSE,
  resume: TYPE_RESUME,
  held: TYPE_HELD,
};

/** DATA payloads whose owner lent the byte before them for the type byte (DataFrameBatcher's reused buffer). */
const typeRoomy = new WeakSet<Uint8Array>();

/**
 * Marks a DATA payload whose buffer has one byte before it that nothing else reads: encodeMessage writes the
 * type byte there and returns a view, so the plaintext is not copied. The owner must not touch the byte or the
 * payload until the frame is sealed (DirectConnection.send() resolves). Returns `bytes`.
 */
export function lendTypeRoom(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset < 1) throw new RangeError("Cannot lend type room: no byte before the payload");
  typeRoomy.add(bytes);
  return bytes;
}

/**
 * Encodes a message as frame plaintext (type byte + body). With `room`, the plaintext is a view into a buffer
 * with that many spare bytes before and after it, so a clear frame's prefix and tag go around it in place.
 */
export function encodeMessage(m: WireMessage, room = { before: 0, after: 0 }): Uint8Array {
  const type = TYPES[m.type];
  if (m.type === "data") {
    if (m.bytes.byteLength > MAX_DATA_BYTES) {
      throw new RangeError(`Cannot encode DATA: ${m.bytes.byteLength} bytes exceed ${MAX_DATA_BYTES}`);
    }
    const n = 1 + m.bytes.byteLength;
    // A payload lent with its type byte's room (lendTypeRoom) becomes the plaintext in place: a sealed frame's
    // plaintext is read once by the cipher, so the 1 MiB copy would buy nothing.
    if (room.before === 0 && room.after === 0 && typeRoomy.has(m.bytes)) {
      const out = new Uint8Array(m.bytes.buffer, m.bytes.byteOffset - 1, n);
      out[0] = m.clear ? TYPE_DATA_CLEAR : type;
      return out;
    }
    const out = new Uint8Array(room.before + n + room.after).subarray(room.before, room.before + n);
    out[0] = m.clear ? TYPE_DATA_CLEAR : type;
    out.set(m.bytes, 1);
    return out;
  }
  const { type: _, ...body } = m;
  const json = new TextEncoder().encode(JSON.stringify(body));
  if (json.byteLength > MAX_JSON_BYTES)
    throw new RangeError(`Cannot encode ${m.type}: body exceeds ${MAX_JSON_BYTES} bytes`);
  const out = new Uint8Array(1 + json.byteLength);
  out[0] = type;
  out.set(json, 1);
  return out;
}

function bad(why: string): never {
  throw new DirectChannelError("ERR_DIRECT_PROTOCOL", `Cannot decode message: ${why}`);
}
/** Most pattern header versions an ACCEPTED may list: a few, not an unbounded array from the peer. */
const MAX_PATTERN_VERSIONS = 16;
/** A list of pattern header versions: small positive integers, a bounded count. */
function versions(v: unknown): number[] {
  if (
    !Array.isArray(v) ||
    v.length > MAX_PATTERN_VERSIONS ||
    !v.every((x) => Number.isInteger(x) && x >= 1 && x <= 0xff)
  )
    bad("field patternVersions is not a list of versions");
  return v as number[];
}
const isSize = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const str = (o: Record<string, unknown>, k: string, re: RegExp): string => {
  const v = o[k];
  if (typeof v !== "string" || !re.test(v)) bad(`field ${k} is missing or malformed`);
  return v;
};

/** Decodes frame plaintext; any unknown type, bad JSON or bad field is ERR_DIRECT_PROTOCOL. DATA is a view. */
export function decodeMessage(p: Uint8Array): WireMessage {
  if (p.byteLength === 0) bad("empty plaintext");
  const type = p[0];
  const body = p.subarray(1);
  if (type === TYPE_DATA) return { type: "data", bytes: body };
  if (type === TYPE_DATA_CLEAR) return { type: "data", bytes: body, clear: true };
  if (body.byteLength > MAX_JSON_BYTES) bad(`body of ${body.byteLength} bytes exceeds ${MAX_JSON_BYTES}`);
  let o: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    if (typeof v !== "object" || v === null || Array.isArray(v)) bad("body is not a JSON object");
    o = v as Record<string, unknown>;
  } catch (err) {
    if (err instanceof DirectChannelError) throw err;
    bad("body is not JSON");
  }
  switch (type) {
    case TYPE_REQUEST:
      return {
        type: "request",
        id: str(o, "id", TOKEN),
        password: str(o, "password", TOKEN),
        nonce: str(o, "nonce", TOKEN),
        ...(o.eph === undefined ? {} : { eph: str(o, "eph", EPHEMERAL_KEY) }),
      };
    case TYPE_ACCEPTED:
      if (!isSize(o.expiresAt)) bad("field expiresAt is not a time");
      return {
        type: "accepted",
        nonce: str(o, "nonce", TOKEN),
        calleeNonce: str(o, "calleeNonce", TOKEN),
        expiresAt: o.expiresAt,
        ...(o.eph === undefined ? {} : { eph: str(o, "eph", EPHEMERAL_KEY) }),
        ...(o.password !== undefined ? { password: str(o, "password", TOKEN) } : {}),
        ...(o.resume === true ? { resume: true } : {}),
        ...(o.patternVersions === undefined ? {} : { patternVersions: versions(o.patternVersions) }),
      };
    case TYPE_DENIED:
      return { type: "denied", code: str(o, "code", CODE) };
    case TYPE_OFFER: {
      if (!isSize(o.size)) bad("field size is not a byte count");
      if (typeof o.kind !== "string" || !CODE.test(o.kind.replaceAll("-", "_")))
        bad("field kind is malformed");
      if (typeof o.name !== "string" || o.name.length > 1024) bad("field name is malformed");
      const m: OfferMessage = { type: "offer", kind: o.kind, size: o.size, name: o.name };
      if (o.meta !== undefined) {
        if (typeof o.meta !== "object" || o.meta === null || Array.isArray(o.meta))
          bad("field meta is not an object");
        m.meta = o.meta as Record<string, unknown>;
      }
      return m;
    }
    case TYPE_END: {
      const m: EndMessage = { type: "end" };
      if (o.size !== undefined) {
        if (!isSize(o.size)) bad("field size is not a byte count");
        m.size = o.size;
      }
      if (o.sha256 !== undefined) m.sha256 = str(o, "sha256", HEX_SHA256);
      return m;
    }
    case TYPE_RECEIPT: {
      if (typeof o.ok !== "boolean" || !isSize(o.bytes)) bad("fields ok and bytes are required");
      const m: ReceiptMessage = { type: "receipt", ok: o.ok, bytes: o.bytes };
      if (o.sha256 !== undefined) m.sha256 = str(o, "sha256", HEX_SHA256);
      if (o.code !== undefined) m.code = str(o, "code", CODE);
      if (o.held !== undefined) {
        if (typeof o.held !== "boolean") bad("field held is not a boolean");
        m.held = o.held;
      }
      return m;
    }
    case TYPE_CLOSE:
      return { type: "close", reason: str(o, "reason", CODE) };
    case TYPE_RESUME: {
      if (!isSize(o.size)) bad("field size is not a byte count");
      const m: ResumeMessage = {
        type: "resume",
        sha256: str(o, "sha256", HEX_SHA256),
        kind: str(o, "kind", CODE),
        size: o.size,
        protection: str(o, "protection", CODE),
      };
      if (o.directSize !== undefined) {
        if (!isSize(o.directSize)) bad("field directSize is not a byte count");
        m.directSize = o.directSize;
      }
      return m;
    }
    case TYPE_HELD:
      if (!isSize(o.held)) bad("field held is not a byte count");
      return { type: "held", held: o.held };
    default:
      return bad(`unknown type 0x${(type ?? 0).toString(16)}`);
  }
}
