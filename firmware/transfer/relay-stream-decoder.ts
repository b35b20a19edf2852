/** @module RelayStreamDecoder: the streaming reader of a relay stream, checking order, bounds and integrity as chunks arrive. */
import { createHash, type Hash } from "node:crypto";
import { openChunk, TAG_BYTES } from "../../crypto/aead.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import {
  checkManifest,
  checkStream,
  isSize,
  MAX_RELAY_DATA_BYTES,
  MAX_RELAY_JSON_BYTES,
  MAX_RELAY_RECORD_BYTES,
  RECORD_DATA,
  RECORD_END,
  RECORD_LENGTH_BYTES,
  RECORD_MANIFEST,
  type RelayEnd,
  type RelayManifest,
  type RelayRecord,
  RelayStreamError,
  type RelayStreamId,
  type RelayStreamOptions,
  relayContext,
  storeContext,
} from "./relay-stream.ts";

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
  readonly #ownsChunks: boolean;

  /**
   * With `storeEnc`, the records of a store stream, whose prefix the caller has read (parseStorePrefix) to find
   * the key: each record must name that enc in its context. `ownsChunks`: the pushed chunks are the decoder's
   * to free (a download's network chunks, which nobody else reads), so each goes back (releaseBuffer) once every
   * byte of it is copied into a record, instead of waiting for a full collection.
   */
  constructor(
    key: CryptoKey,
    sessionId: string,
    stream: RelayStreamId,
    o: RelayStreamOptions & { ownsChunks?: boolean } = {},
  ) {
    checkStream(stream);
    this.#ownsChunks = o.ownsChunks === true;
    this.#key = key;
    this.#context = o.storeEnc === undefined ? relayContext(sessionId) : storeContext(sessionId, o.storeEnc);
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
      if (k === head.byteLength) {
        this.#pending.shift();
        // A whole chunk copied out is dead; the tail of a split one is a partial view, which releaseBuffer leaves.
        if (this.#ownsChunks) releaseBuffer(head);
      } else this.#pending[0] = head.subarray(k);
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
      // The sealed copy #take made is this decoder's alone and dead once opened.
      releaseBuffer(sealed);
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
