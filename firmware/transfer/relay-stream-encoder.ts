/** @module RelayStreamEncoder: a payload into the sealed relay records a sender uploads; relayStreamSize() says their length in advance. */
import { createHash, type Hash } from "node:crypto";
import { sealChunk, TAG_BYTES } from "../../crypto/aead.ts";
import {
  checkManifest,
  checkStream,
  encodeStorePrefix,
  MAX_RELAY_DATA_BYTES,
  MAX_RELAY_JSON_BYTES,
  RECORD_DATA,
  RECORD_END,
  RECORD_LENGTH_BYTES,
  RECORD_MANIFEST,
  type RelayEnd,
  type RelayManifest,
  type RelayStreamId,
  type RelayStreamOptions,
  relayContext,
  STORE_PREFIX_BYTES,
  storeContext,
} from "./relay-stream.ts";

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
  /** A store stream's clear prefix, sent ahead of record 0. */
  readonly #prefix: Uint8Array | undefined;
  readonly #hash: Hash = createHash("sha256");
  /** type byte || up to 1 MiB of payload: the next DATA plaintext, filled in place so sealing needs no copy. */
  readonly #buf = new Uint8Array(1 + MAX_RELAY_DATA_BYTES);
  #fill = 0;
  #index = 0;
  #payload = 0;
  #bytesOut = 0;
  #state: "start" | "data" | "ended" = "start";

  /** With `storeEnc`, a store stream: the prefix carrying enc goes first and every record's context names it. */
  constructor(key: CryptoKey, sessionId: string, stream: RelayStreamId, o: RelayStreamOptions = {}) {
    checkStream(stream);
    this.#key = key;
    this.#stream = stream;
    this.#buf[0] = RECORD_DATA;
    if (o.storeEnc === undefined) {
      this.#context = relayContext(sessionId);
      return;
    }
    this.#prefix = encodeStorePrefix(o.storeEnc);
    this.#context = storeContext(sessionId, o.storeEnc);
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

  /** Record 0; in a store stream, the prefix and record 0 in one piece. */
  async manifest(m: RelayManifest): Promise<Uint8Array> {
    if (this.#state !== "start") throw new TypeError("Cannot encode a relay manifest: it must be record 0");
    checkManifest(m);
    const body = manifestBytes(m);
    this.#state = "data";
    const record = await this.#sealPlain(typed(RECORD_MANIFEST, body));
    if (this.#prefix === undefined) return record;
    const out = new Uint8Array(this.#prefix.byteLength + record.byteLength);
    out.set(this.#prefix);
    out.set(record, this.#prefix.byteLength);
    this.#bytesOut += this.#prefix.byteLength;
    return out;
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
 * payload length), with the store prefix when `store`: what POST /v1/transfers must declare before the first
 * byte is uploaded.
 */
export function relayStreamSize(m: RelayManifest, o: { store?: boolean } = {}): number {
  checkManifest(m);
  const full = Math.floor(m.size / MAX_RELAY_DATA_BYTES);
  const rest = m.size % MAX_RELAY_DATA_BYTES;
  const endBody = encoder.encode(JSON.stringify({ size: m.size, sha256: "0".repeat(64) })).byteLength;
  return (
    (o.store === true ? STORE_PREFIX_BYTES : 0) +
    recordBytes(manifestBytes(m).byteLength) +
    full * recordBytes(MAX_RELAY_DATA_BYTES) +
    (rest > 0 ? recordBytes(rest) : 0) +
    recordBytes(endBody)
  );
}
