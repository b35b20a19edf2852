/** @module The relay stream: the sealed record sequence a sender uploads to the node's relay and a receiver downloads. */
import { DecryptError, importSessionKey, TAG_BYTES } from "../../crypto/aead.ts";
import { deriveKey } from "../../crypto/hmac.ts";
import { STORE_ENC_BYTES } from "../../crypto/hpke-store-key.ts";
import { toBase64url } from "../../crypto/random-token.ts";

// The bytes of PUT /v1/transfers/:id/data, end to end sealed so the node stores and forwards only ciphertext:
//
//   record  = sealed length (u32 BE) || sealChunk(key, position, plaintext)
//   key     = importSessionKey(HKDF(session key, "pvrlink/relay/v1"))
//   position= { context: "pvrlink/relay/" + session id, stream: 1 | 2 | 3, index: record counter from 0 }
//   plaintext = type (u8) || body
//     0x01 MANIFEST  JSON RelayManifest             always record 0
//     0x02 DATA      payload bytes, 1 .. 1 MiB
//     0x03 END       JSON {size, sha256}            always last; size and hash of this stream's payload
//
// The position binds each record to its session, stream and place, so a record moved, dropped, replayed or
// spliced from another stream fails to open; END is what tells a complete stream from a cut one. Sealing is
// deterministic in (key, position, plaintext): a sender resuming after a node restart re-encodes from the
// start and skips the bytes the node already holds, and the bytes it sends are exactly the ones it lost.
//
// A store stream (store-and-forward, docs/protocol.md section 13) is a whole-recording stream (3) with a clear,
// versioned prefix ahead of record 0 that carries the HPKE (RFC 9180) encapsulation to the callee:
//
//   store stream = prefix || record 0 || record 1 || ...
//   prefix   = "PVRS" (4 bytes) || version (u8) = 1 || enc length (u8) = 32 || enc (32 bytes)
//   key      = importSessionKey(HKDF(store key, "pvrlink/relay/v1")); store key: crypto/hpke-store-key.ts,
//              HPKE export (sender to the callee's identity key) mixed with the transfer key
//   position = { context: "pvrlink/store/v1/" + session id + "/" + base64url(enc), stream: 3, index: from 0 }
//
// enc is bound twice: the store key is derived from it (another enc decapsulates to another secret) and every
// record's AAD names it, so a node that swaps, strips or re-uses it gets records that do not open. A live stream
// never has the prefix; its first byte is a record length's high byte, always 0, never "P".

/** HKDF purpose of the relay key, so the relay and the direct channel never share a key or a nonce. */
export const RELAY_KEY_PURPOSE = "relay/v1";
/** Prefix of the AEAD context; the session id follows. */
export const RELAY_CONTEXT_PREFIX = "pvrlink/relay/";
/** Prefix of a store stream's AEAD context; the session id and base64url(enc) follow. */
export const STORE_CONTEXT_PREFIX = "pvrlink/store/v1/";
/** A store stream's first four bytes, "PVRS": a record length's high byte is always 0 (records are about 1 MiB). */
export const STORE_MAGIC = new Uint8Array([0x50, 0x56, 0x52, 0x53]);
/** The store prefix's layout version; another one is refused, not guessed at. */
export const STORE_VERSION = 1;
/** The store prefix's length: magic, version, enc length, enc. */
export const STORE_PREFIX_BYTES = STORE_MAGIC.byteLength + 2 + STORE_ENC_BYTES;
/** Stream ids (the AEAD stream field): which part of a recording a relay stream carries. */
export const RELAY_STREAM_PROTECTED = 1;
export const RELAY_STREAM_DIRECT = 2;
export const RELAY_STREAM_WHOLE = 3;
/** Record types (first plaintext byte). */
export const RECORD_MANIFEST = 0x01;
export const RECORD_DATA = 0x02;
export const RECORD_END = 0x03;
/** Record length prefix: u32 big-endian. */
export const RECORD_LENGTH_BYTES = 4;
/** Largest DATA payload per record; 1 MiB keeps the receiver's buffer small and the seal calls efficient. */
export const MAX_RELAY_DATA_BYTES = 1024 * 1024;
/** Largest JSON body (MANIFEST, END); names are short, so 64 KiB is generous. */
export const MAX_RELAY_JSON_BYTES = 64 * 1024;
/** Largest sealed record a decoder accepts before buffering it: type byte + 1 MiB + GCM tag. */
export const MAX_RELAY_RECORD_BYTES = 1 + MAX_RELAY_DATA_BYTES + TAG_BYTES;

export type RelayStreamId =
  | typeof RELAY_STREAM_PROTECTED
  | typeof RELAY_STREAM_DIRECT
  | typeof RELAY_STREAM_WHOLE;
export type RelayStreamKind = "split-protected" | "split-direct" | "whole";

/** What makes a relay stream a store stream: the HPKE enc its prefix carries and its records' context names. */
export interface RelayStreamOptions {
  storeEnc?: Uint8Array | undefined;
}

/** Record 0 of every relay stream: what the stream carries and what the whole recording is. */
export interface RelayManifest {
  name: string;
  kind: RelayStreamKind;
  /** Bytes of this stream's payload (a split part including its header, or the whole recording). */
  size: number;
  /** Bytes of the original recording. */
  originalSize: number;
  /** SHA-256 (hex) of the original recording. */
  sha256: string;
  recordingType: string;
  secret: boolean;
  /** Device name of the sender. */
  sender: string;
  /** For a split sent wholly through the relay (fallback): the other part's transfer id. */
  siblingTransferId?: string;
  /**
   * A resumed live send (docs/protocol.md 12.6): the callee holds the original's first `from` bytes, and this
   * stream carries only what follows (a whole stream: bytes [from, originalSize); a split part: its header,
   * then its body past that point). Sealed with the rest of the manifest, so it cannot be altered on the way.
   */
  from?: number;
}

/** The END record's body. */
export interface RelayEnd {
  size: number;
  sha256: string;
}

export type RelayRecord =
  | { type: "manifest"; manifest: RelayManifest }
  | { type: "data"; bytes: Uint8Array }
  | { type: "end"; end: RelayEnd };

/**
 * Codes:
 * - ERR_RELAY_TRUNCATED: the input ended before the END record (or inside a record).
 * - ERR_RELAY_PROTOCOL: a record opened but is not a valid relay record (bad order, type, JSON, length).
 * - ERR_RELAY_INTEGRITY: END's size or hash disagrees with the payload, or the payload with the manifest.
 * A record that fails to open is a DecryptError (crypto/aead), with no detail.
 */
export type RelayStreamErrorCode = "ERR_RELAY_TRUNCATED" | "ERR_RELAY_PROTOCOL" | "ERR_RELAY_INTEGRITY";

export class RelayStreamError extends Error {
  constructor(
    readonly code: RelayStreamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RelayStreamError";
  }
}

/** The relay key for a session: HKDF(session key, "pvrlink/relay/v1"), imported non-extractable. */
export async function relayKey(sessionKey: Uint8Array): Promise<CryptoKey> {
  return importSessionKey(deriveKey(sessionKey, RELAY_KEY_PURPOSE));
}

/** The AEAD context of a session's relay streams. */
export function relayContext(sessionId: string): string {
  return RELAY_CONTEXT_PREFIX + sessionId;
}

/** The AEAD context of a store stream: its session and its HPKE enc, so every record names the enc it was sealed with. */
export function storeContext(sessionId: string, enc: Uint8Array): string {
  return `${STORE_CONTEXT_PREFIX}${sessionId}/${toBase64url(enc)}`;
}

/** The clear prefix of a store stream for this enc. */
export function encodeStorePrefix(enc: Uint8Array): Uint8Array {
  if (enc.byteLength !== STORE_ENC_BYTES)
    throw new RangeError(
      `Cannot encode a store prefix: enc is ${enc.byteLength} bytes, not ${STORE_ENC_BYTES}`,
    );
  const out = new Uint8Array(STORE_PREFIX_BYTES);
  out.set(STORE_MAGIC);
  out[STORE_MAGIC.byteLength] = STORE_VERSION;
  out[STORE_MAGIC.byteLength + 1] = STORE_ENC_BYTES;
  out.set(enc, STORE_MAGIC.byteLength + 2);
  return out;
}

/**
 * Reads the start of a stored transfer: its enc, "absent" when it starts like a record (a stream from a sender
 * without the callee's identity key, sealed under the transfer key), or "incomplete" when more bytes are needed.
 * A prefix of another version or enc length is ERR_RELAY_PROTOCOL.
 */
export function parseStorePrefix(head: Uint8Array): { enc: Uint8Array } | "absent" | "incomplete" {
  const magic = STORE_MAGIC.byteLength;
  for (let i = 0; i < Math.min(magic, head.byteLength); i++) if (head[i] !== STORE_MAGIC[i]) return "absent";
  if (head.byteLength > magic && head[magic] !== STORE_VERSION)
    throw new RelayStreamError(
      "ERR_RELAY_PROTOCOL",
      `Invalid store stream: prefix version ${head[magic]}, this recorder reads ${STORE_VERSION}`,
    );
  if (head.byteLength > magic + 1 && head[magic + 1] !== STORE_ENC_BYTES)
    throw new RelayStreamError(
      "ERR_RELAY_PROTOCOL",
      `Invalid store stream: enc length ${head[magic + 1]}, not ${STORE_ENC_BYTES}`,
    );
  if (head.byteLength < STORE_PREFIX_BYTES) return "incomplete";
  return { enc: head.slice(magic + 2, STORE_PREFIX_BYTES) };
}

export function checkStream(stream: number): void {
  if (stream !== RELAY_STREAM_PROTECTED && stream !== RELAY_STREAM_DIRECT && stream !== RELAY_STREAM_WHOLE) {
    throw new RangeError(`Cannot use relay stream ${stream}: ids are 1, 2 and 3`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const KINDS = new Set<string>(["split-protected", "split-direct", "whole"]);

export function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Throws RelayStreamError ERR_RELAY_PROTOCOL for anything not a RelayManifest: both ends check the same rules. */
export function checkManifest(m: unknown): asserts m is RelayManifest {
  const bad = (why: string) => new RelayStreamError("ERR_RELAY_PROTOCOL", `Invalid relay manifest: ${why}`);
  if (typeof m !== "object" || m === null || Array.isArray(m)) throw bad("not an object");
  const r = m as Record<string, unknown>;
  if (typeof r.name !== "string") throw bad("name is not a string");
  if (typeof r.kind !== "string" || !KINDS.has(r.kind)) throw bad(`kind ${String(r.kind)} is unknown`);
  if (!isSize(r.size)) throw bad("size is not a non-negative integer");
  if (!isSize(r.originalSize)) throw bad("originalSize is not a non-negative integer");
  if (typeof r.sha256 !== "string" || !HEX64.test(r.sha256)) throw bad("sha256 is not 64 hex digits");
  if (typeof r.recordingType !== "string") throw bad("recordingType is not a string");
  if (typeof r.secret !== "boolean") throw bad("secret is not a boolean");
  if (typeof r.sender !== "string") throw bad("sender is not a string");
  if (r.siblingTransferId !== undefined && typeof r.siblingTransferId !== "string") {
    throw bad("siblingTransferId is not a string");
  }
  if (r.from !== undefined && (!isSize(r.from) || r.from > r.originalSize)) {
    throw bad("from is not a byte offset inside the original");
  }
}

export { DecryptError };
