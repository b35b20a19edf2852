/** @module The relay stream: the sealed record sequence a sender uploads to the node's relay and a receiver downloads. */
import { createHash, type Hash } from "node:crypto";
import { DecryptError, importSessionKey, openChunk, sealChunk, TAG_BYTES } from "../../crypto/aead.ts";
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

function checkStream(stream: number): void {
  if (stream !== RELAY_STREAM_PROTECTED && stream !== RELAY_STREAM_DIRECT && stream !== RELAY_STREAM_WHOLE) {
    throw new RangeError(`Cannot use relay stream ${stream}: ids are 1, 2 and 3`);
  }
}

const encoder = new TextEncoder();

function typed(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/**
 * Turns a payload into relay records: manifest() first, then data() as often as needed, then end(). DATA records
 * are cut at exactly 1 MiB whatever the input pieces (the last one shorter), so the encoding depends only on the
 * payload: its size is known in advance (relayStreamSize) and a resumed upload re-seals identical bytes. Keeps a
 * 1 MiB buffer, a record counter and a running SHA-256, so memory does not depend on the payload size.
 */
export class RelayStreamEncoder {
  readonly #key: CryptoKey;
  readonly #context: string;
  readonly #stream: number;
  readonly #hash: Hash = createHash("sha256");
  /** type byte || up to 1 MiB of payload: the next DATA plaintext, filled in place so sealing needs no copy. */
  readonly #buf = new Uint8Array(1 + MAX_RELAY_DATA_BYTES);
  #fill = 0;
  #index = 0;
  #payload = 0;
  #bytesOut = 0;
  #state: "start" | "data" | "ended" = "start";

  constructor(key: CryptoKey, sessionId: string, stream: RelayStreamId) {
    checkStream(stream);
    this.#key = key;
    this.#context = relayContext(sessionId);
    this.#stream = stream;
    this.#buf[0] = RECORD_DATA;
  }

  /** Payload bytes encoded so far. */
  get payloadBytes(): number {
    return this.#payload;
  }

  /** Encoded (framed, sealed) bytes produced so far. */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  async #sealPlain(plain: Uint8Array): Promise<Uint8Array> {
    const [prefix, sealed] = await this.#sealParts(plain);
    const rec = new Uint8Array(prefix.byteLength + sealed.byteLength);
    rec.set(prefix, 0);
    rec.set(sealed, prefix.byteLength);
    return rec;
  }

  /** A record as its length prefix and its sealed bytes: two pieces, so a 1 MiB record is never copied again. */
  async #sealParts(plain: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
    const sealed = await sealChunk(
      this.#key,
      { context: this.#context, stream: this.#stream, index: this.#index },
      plain,
    );
    this.#index++;
    const prefix = new Uint8Array(RECORD_LENGTH_BYTES);
    new DataView(prefix.buffer).setUint32(0, sealed.byteLength);
    this.#bytesOut += RECORD_LENGTH_BYTES + sealed.byteLength;
    return [prefix, sealed];
  }

  async manifest(m: RelayManifest): Promise<Uint8Array> {
    if (this.#state !== "start") throw new TypeError("Cannot encode a relay manifest: it must be record 0");
    checkManifest(m);
    const body = manifestBytes(m);
    this.#state = "data";
    return this.#sealPlain(typed(RECORD_MANIFEST, body));
  }

  /**
   * Adds payload bytes; returns the encoded bytes of the DATA records (1 MiB each) they complete, possibly none:
   * each record as two pieces (length prefix, sealed bytes) to be written in order.
   */
  async data(bytes: Uint8Array): Promise<Uint8Array[]> {
    if (this.#state !== "data") throw new TypeError(`Cannot encode relay data in state ${this.#state}`);
    this.#hash.update(bytes);
    this.#payload += bytes.byteLength;
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.byteLength) {
      const k = Math.min(MAX_RELAY_DATA_BYTES - this.#fill, bytes.byteLength - at);
      this.#buf.set(bytes.subarray(at, at + k), 1 + this.#fill);
      this.#fill += k;
      at += k;
      if (this.#fill === MAX_RELAY_DATA_BYTES) {
        out.push(...(await this.#sealParts(this.#buf)));
        this.#fill = 0;
      }
    }
    return out;
  }

  /** The last, short DATA record (if any, as two pieces) and the END record with the payload's size and SHA-256. */
  async end(): Promise<Uint8Array[]> {
    if (this.#state !== "data") throw new TypeError(`Cannot end a relay stream in state ${this.#state}`);
    this.#state = "ended";
    const out: Uint8Array[] = [];
    if (this.#fill > 0) out.push(...(await this.#sealParts(this.#buf.subarray(0, 1 + this.#fill))));
    this.#fill = 0;
    const end: RelayEnd = { size: this.#payload, sha256: this.#hash.digest("hex") };
    out.push(await this.#sealPlain(typed(RECORD_END, encoder.encode(JSON.stringify(end)))));
    return out;
  }
}

function manifestBytes(m: RelayManifest): Uint8Array {
  const body = encoder.encode(JSON.stringify(m));
  if (body.byteLength > MAX_RELAY_JSON_BYTES) {
    throw new RangeError(
      `Cannot encode a relay manifest: ${body.byteLength} bytes exceed ${MAX_RELAY_JSON_BYTES}`,
    );
  }
  return body;
}

/** One record's bytes on the wire for a plaintext body of n bytes: length prefix, type byte, body, tag. */
const recordBytes = (n: number) => RECORD_LENGTH_BYTES + 1 + n + TAG_BYTES;

/**
 * The exact encoded length of the relay stream RelayStreamEncoder makes for this manifest (whose size is the
 * payload length): what POST /v1/transfers must declare before the first byte is uploaded.
 */
export function relayStreamSize(m: RelayManifest): number {
  checkManifest(m);
  const full = Math.floor(m.size / MAX_RELAY_DATA_BYTES);
  const rest = m.size % MAX_RELAY_DATA_BYTES;
  const endBody = encoder.encode(JSON.stringify({ size: m.size, sha256: "0".repeat(64) })).byteLength;
  return (
    recordBytes(manifestBytes(m).byteLength) +
    full * recordBytes(MAX_RELAY_DATA_BYTES) +
    (rest > 0 ? recordBytes(rest) : 0) +
    recordBytes(endBody)
  );
}

const HEX64 = /^[0-9a-f]{64}$/;
const KINDS = new Set<string>(["split-protected", "split-direct", "whole"]);

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function checkManifest(m: unknown): asserts m is RelayManifest {
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

function parseJson(body: Uint8Array, what: string): unknown {
  if (body.byteLength > MAX_RELAY_JSON_BYTES) {
    throw new RelayStreamError(
      "ERR_RELAY_PROTOCOL",
      `Invalid relay ${what}: ${body.byteLength} bytes of JSON`,
    );
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new RelayStreamError("ERR_RELAY_PROTOCOL", `Invalid relay ${what}: not UTF-8 JSON`);
  }
}

/**
 * The streaming decoder: push() chunks of any size as they arrive, get the records they complete. It buffers at
 * most one record (bounded by MAX_RELAY_RECORD_BYTES, checked before buffering), checks the order (MANIFEST,
 * DATA*, END), the payload against END and the manifest's size, and after END accepts no more bytes.
 */
export class RelayStreamDecoder {
  readonly #key: CryptoKey;
  readonly #context: string;
  readonly #stream: number;
  readonly #hash: Hash = createHash("sha256");
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #index = 0;
  #payload = 0;
  #manifest: RelayManifest | undefined;
  #ended = false;

  constructor(key: CryptoKey, sessionId: string, stream: RelayStreamId) {
    checkStream(stream);
    this.#key = key;
    this.#context = relayContext(sessionId);
    this.#stream = stream;
  }

  get manifest(): RelayManifest | undefined {
    return this.#manifest;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Payload bytes decoded so far. */
  get payloadBytes(): number {
    return this.#payload;
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = this.#pending[0] as Uint8Array;
      const k = Math.min(head.byteLength, n - at);
      out.set(head.subarray(0, k), at);
      at += k;
      if (k === head.byteLength) this.#pending.shift();
      else this.#pending[0] = head.subarray(k);
    }
    this.#pendingBytes -= n;
    return out;
  }

  #peekLength(): number {
    const b = this.#take(RECORD_LENGTH_BYTES);
    this.#pending.unshift(b);
    this.#pendingBytes += RECORD_LENGTH_BYTES;
    return new DataView(b.buffer).getUint32(0);
  }

  async push(chunk: Uint8Array): Promise<RelayRecord[]> {
    if (chunk.byteLength === 0) return [];
    if (this.#ended)
      throw new RelayStreamError("ERR_RELAY_PROTOCOL", "Invalid relay stream: bytes after END");
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    const out: RelayRecord[] = [];
    while (this.#pendingBytes >= RECORD_LENGTH_BYTES) {
      const len = this.#peekLength();
      if (len < 1 + TAG_BYTES || len > MAX_RELAY_RECORD_BYTES) {
        throw new RelayStreamError(
          "ERR_RELAY_PROTOCOL",
          `Invalid relay record ${this.#index}: sealed length ${len} is outside ${1 + TAG_BYTES}..${MAX_RELAY_RECORD_BYTES}`,
        );
      }
      if (this.#pendingBytes < RECORD_LENGTH_BYTES + len) break;
      this.#take(RECORD_LENGTH_BYTES);
      const sealed = this.#take(len);
      const plain = await openChunk(
        this.#key,
        { context: this.#context, stream: this.#stream, index: this.#index },
        sealed,
      );
      out.push(this.#record(plain));
      this.#index++;
      if (this.#ended && this.#pendingBytes > 0) {
        throw new RelayStreamError("ERR_RELAY_PROTOCOL", "Invalid relay stream: bytes after END");
      }
    }
    return out;
  }

  #record(plain: Uint8Array): RelayRecord {
    const type = plain[0];
    const body = plain.subarray(1);
    if (this.#index === 0 && type !== RECORD_MANIFEST) {
      throw new RelayStreamError(
        "ERR_RELAY_PROTOCOL",
        `Invalid relay stream: record 0 has type ${type}, not MANIFEST`,
      );
    }
    if (type === RECORD_MANIFEST) {
      if (this.#index !== 0) {
        throw new RelayStreamError(
          "ERR_RELAY_PROTOCOL",
          `Invalid relay stream: MANIFEST at record ${this.#index}`,
        );
      }
      const m = parseJson(body, "manifest");
      checkManifest(m);
      this.#manifest = m;
      return { type: "manifest", manifest: m };
    }
    if (type === RECORD_DATA) {
      if (body.byteLength === 0 || body.byteLength > MAX_RELAY_DATA_BYTES) {
        throw new RelayStreamError("ERR_RELAY_PROTOCOL", `Invalid relay DATA: ${body.byteLength} bytes`);
      }
      this.#payload += body.byteLength;
      const limit = this.#manifest?.size ?? 0;
      if (this.#payload > limit) {
        throw new RelayStreamError(
          "ERR_RELAY_INTEGRITY",
          `Relay stream carries more than the ${limit} bytes its manifest declares`,
        );
      }
      this.#hash.update(body);
      return { type: "data", bytes: body };
    }
    if (type === RECORD_END) {
      const e = parseJson(body, "END") as Partial<RelayEnd> | null;
      if (typeof e !== "object" || e === null || !isSize(e.size) || typeof e.sha256 !== "string") {
        throw new RelayStreamError("ERR_RELAY_PROTOCOL", "Invalid relay END: expected {size, sha256}");
      }
      const digest = this.#hash.digest("hex");
      if (e.size !== this.#payload || e.size !== this.#manifest?.size || e.sha256 !== digest) {
        throw new RelayStreamError(
          "ERR_RELAY_INTEGRITY",
          `Relay stream integrity check failed: END says ${e.size} bytes, received ${this.#payload}`,
        );
      }
      this.#ended = true;
      return { type: "end", end: { size: e.size, sha256: e.sha256 } };
    }
    throw new RelayStreamError("ERR_RELAY_PROTOCOL", `Invalid relay record type ${type}`);
  }

  /** Call at end of input: throws ERR_RELAY_TRUNCATED unless END was decoded. */
  finish(): void {
    if (!this.#ended) {
      throw new RelayStreamError(
        "ERR_RELAY_TRUNCATED",
        `Relay stream ended after ${this.#payload} payload bytes without END${this.#pendingBytes > 0 ? " (inside a record)" : ""}`,
      );
    }
  }
}

export { DecryptError };
