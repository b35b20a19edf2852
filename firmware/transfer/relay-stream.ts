/** @module The relay stream: the sealed record sequence a sender uploads to the node's relay and a receiver downloads. */
import { DecryptError, importSessionKey, TAG_BYTES } from "../../crypto/aead.ts";
import { deriveKey } from "../../crypto/hmac.ts";

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

/** HKDF purpose of the relay key, so the relay and the direct channel never share a key or a nonce. */
export const RELAY_KEY_PURPOSE = "relay/v1";
/** Prefix of the AEAD context; the session id follows. */
export const RELAY_CONTEXT_PREFIX = "pvrlink/relay/";
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
}

export { DecryptError };
