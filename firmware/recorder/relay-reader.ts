/** @module Downloads one relay transfer from the node and decodes its sealed records, resuming when the stream stalls or the node goes away. */
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import {
  DecryptError,
  parseStorePrefix,
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayRecord,
  RelayStreamError,
  type RelayStreamId,
  relayKey,
  STORE_PREFIX_BYTES,
} from "../transfer/relay-stream.ts";
import { RelayStreamDecoder } from "../transfer/relay-stream-decoder.ts";

export interface RelayReaderOptions {
  client: ControlClient;
  transferId: string;
  sessionId: string;
  /** Raw 32-byte session key from the grant. */
  sessionKey: Uint8Array;
  /** The stream id when known (OFFER meta.relay.stream); otherwise found from record 0. */
  stream?: RelayStreamId;
  /**
   * The forward-secret relay key of the direct connection whose OFFER named this transfer
   * (crypto/ephemeral-agreement.ts); it replaces the session's relay key.
   */
  streamKey?: CryptoKey;
  /**
   * A stored transfer (store-and-forward): the raw store key for the HPKE enc its prefix carries
   * (crypto/hpke-store-key.ts). A stored stream without the prefix (its sender had no identity key for this
   * recorder) is read under sessionKey, as a live one is. Without it, a prefix is not looked for.
   */
  storeKey?: (enc: Uint8Array) => Promise<Uint8Array>;
  signal?: AbortSignal;
  /**
   * Resumes after a download that ended early without new bytes (the node ends a live follow after 30 s
   * without growth): 20 by default. A live session's receive passes Infinity: it follows an uploader that went
   * away (a sender killed mid-upload, resumed by `send --resume`) for as long as the deadline (the lease) lasts.
   */
  maxResumes?: number;
  /**
   * Epoch ms after which an unreachable node ends the download (ERR_RELAY_UNREACHABLE). Read at each retry, so
   * a lease that was extended moves it. Without it an outage may last OUTAGE_LIMIT_MS.
   */
  deadline?: () => number;
  /** Longest single outage waited out, whatever the deadline (default OUTAGE_LIMIT_MS). */
  outageLimitMs?: number;
}

/** The longest node outage a download waits out without a deadline: the sender's own resume window. */
export const OUTAGE_LIMIT_MS = 60_000;
/** First retry after the node went away; doubles up to RETRY_MAX_MS (a restart takes about a second). */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2000;

/** The node stayed unreachable past the download's deadline; the bytes so far are not usable. */
export class RelayUnreachableError extends Error {
  readonly code = "ERR_RELAY_UNREACHABLE";
  constructor(message: string) {
    super(message);
    this.name = "RelayUnreachableError";
  }
}

/**
 * A failure worth retrying: the node did not answer (connection refused or reset, a body cut mid-stream) or
 * answered 5xx/429. A 4xx refusal (unknown transfer, not the callee) and anything about the bytes themselves
 * (DecryptError, RelayStreamError) are final.
 */
function transient(err: unknown): boolean {
  if (err instanceof ControlApiError) return err.status >= 500 || err.status === 429;
  if (err instanceof DecryptError || err instanceof RelayStreamError) return false;
  return (err as Error)?.name !== "AbortError";
}

/** Tracks one outage of the node: waits with backoff between retries and gives up at the deadline. */
class Outage {
  #since: number | undefined;
  #attempt = 0;
  readonly #o: RelayReaderOptions;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  constructor(o: RelayReaderOptions, sleep: (ms: number, signal?: AbortSignal) => Promise<void>) {
    this.#o = o;
    this.#sleep = sleep;
  }
  /** A request got an answer: the node is back. */
  over(): void {
    this.#since = undefined;
    this.#attempt = 0;
  }
  /** Waits before the next retry, or throws when err is final or the deadline passed. */
  async wait(err: unknown): Promise<void> {
    this.#o.signal?.throwIfAborted();
    if (!transient(err)) throw err;
    const now = Date.now();
    this.#since ??= now;
    const end = Math.min(
      this.#since + (this.#o.outageLimitMs ?? OUTAGE_LIMIT_MS),
      this.#o.deadline?.() ?? Infinity,
    );
    if (now >= end) {
      throw new RelayUnreachableError(
        `Cannot download relay transfer ${this.#o.transferId}: the node has not answered for ${Math.round((now - this.#since) / 1000)} s, past the session's deadline (${(err as Error).message})`,
      );
    }
    const delay = Math.min(RETRY_BASE_MS * 2 ** this.#attempt++, RETRY_MAX_MS, end - now);
    await this.#sleep(delay, this.#o.signal);
  }
}

/**
 * The node answers a download of a live transfer only once it has bytes to send, so a stopped receive (a refused
 * OFFER, a forced end) must not wait for that: the request is left behind and its body cancelled when it comes.
 */
function untilAborted(p: Promise<Response>, signal?: AbortSignal): Promise<Response> {
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      void p.then(
        (r) => r.body?.cancel(),
        () => {},
      );
      return reject(signal.reason);
    }
    const onAbort = () => {
      void p.then(
        (r) => r.body?.cancel(),
        () => {},
      );
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) void r.body?.cancel();
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const STREAMS: RelayStreamId[] = [RELAY_STREAM_PROTECTED, RELAY_STREAM_DIRECT, RELAY_STREAM_WHOLE];

/**
 * The stream id is part of each record's AEAD position, so record 0 opens under exactly one id: a data trigger
 * names only the transfer, and trying the three ids on the (small) MANIFEST record finds which part it is
 * without trusting anything unauthenticated.
 */
async function detectStream(
  key: CryptoKey,
  sessionId: string,
  o: { head: Uint8Array; storeEnc?: Uint8Array },
): Promise<RelayStreamId | undefined> {
  const { head, ...sealedTo } = o;
  for (const s of STREAMS) {
    const d = new RelayStreamDecoder(key, sessionId, s, sealedTo);
    try {
      const recs = await d.push(head);
      if (recs[0]?.type === "manifest") return s;
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
    }
  }
  return undefined;
}

/**
 * Yields the transfer's records in order: the MANIFEST, DATA..., END. Holds at most one record plus one network
 * chunk. Throws DecryptError (not sealed with this session's key: wrong, forged or damaged),
 * RelayStreamError ERR_RELAY_TRUNCATED (the stored bytes end without END) or ERR_RELAY_PROTOCOL/INTEGRITY.
 */
export async function* readRelayRecords(
  o: RelayReaderOptions,
): AsyncGenerator<RelayRecord, { stream: RelayStreamId; manifest: RelayManifest }> {
  let key = o.streamKey ?? (await relayKey(o.sessionKey));
  // Set once a prefix says the stream is sealed to this recorder (HPKE): its records' context names enc.
  let sealedTo: { storeEnc: Uint8Array } | undefined;
  let decoder: RelayStreamDecoder | undefined =
    o.stream === undefined || o.storeKey !== undefined
      ? undefined
      : new RelayStreamDecoder(key, o.sessionId, o.stream, { ownsChunks: true });
  let lookForPrefix = o.storeKey !== undefined;
  let stream = o.stream;
  let head: Uint8Array[] = [];
  let headBytes = 0;
  let offset = 0;
  let resumes = 0;
  const maxResumes = o.maxResumes ?? 20;
  const outage = new Outage(o, abortableSleep);
  for (;;) {
    o.signal?.throwIfAborted();
    let res: Response;
    try {
      res = await untilAborted(o.client.downloadData(o.transferId, offset), o.signal);
    } catch (err) {
      await outage.wait(err);
      continue;
    }
    outage.over();
    const body = res.body;
    if (!body) break;
    let progressed = false;
    let broken: unknown;
    const reader = body.getReader();
    const onAbort = () => void reader.cancel().catch(() => {});
    o.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          // The node went away mid-body: everything decoded so far stays; resume at `offset`.
          broken = err;
          break;
        }
        const { done, value } = chunk;
        if (done) break;
        if (value.byteLength === 0) continue;
        offset += value.byteLength;
        progressed = true;
        if (!decoder) {
          head.push(value);
          headBytes += value.byteLength;
          if (lookForPrefix && o.storeKey) {
            const joined = Buffer.concat(head, headBytes);
            const prefix = parseStorePrefix(joined);
            if (prefix === "incomplete") continue;
            lookForPrefix = false;
            if (prefix !== "absent") {
              const storeKey = await o.storeKey(prefix.enc);
              key = await relayKey(storeKey);
              storeKey.fill(0);
              sealedTo = { storeEnc: prefix.enc };
              const rest = joined.subarray(STORE_PREFIX_BYTES);
              head = rest.byteLength > 0 ? [rest] : [];
              headBytes = rest.byteLength;
            }
          }
          if (headBytes < 4) continue;
          const joined = Buffer.concat(head, headBytes);
          const len = joined.readUInt32BE(0);
          if (headBytes < 4 + len && len <= 64 * 1024 + 64) continue;
          stream =
            o.stream ??
            (await detectStream(key, o.sessionId, {
              head: joined.subarray(0, Math.min(headBytes, 4 + len)),
              ...sealedTo,
            }));
          if (stream === undefined) throw new DecryptError();
          // The download's chunks (and `joined`, a fresh copy) are read by nothing else: the decoder frees them.
          decoder = new RelayStreamDecoder(key, o.sessionId, stream, { ...sealedTo, ownsChunks: true });
          head = [];
          headBytes = 0;
          for (const r of await decoder.push(joined)) yield r;
          continue;
        }
        for (const r of await decoder.push(value)) yield r;
      }
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
      reader.releaseLock();
    }
    o.signal?.throwIfAborted();
    if (decoder?.ended) break;
    if (broken !== undefined) {
      if (progressed) outage.over();
      await outage.wait(broken);
      continue;
    }
    let info: Awaited<ReturnType<ControlClient["transfer"]>>;
    try {
      info = await o.client.transfer(o.transferId);
    } catch (err) {
      await outage.wait(err);
      continue;
    }
    if (info.complete && offset >= Number(info.size ?? info.received)) break;
    if (!progressed && (++resumes > maxResumes || Date.now() >= (o.deadline?.() ?? Infinity))) break;
  }
  if (!decoder) {
    throw new RelayStreamError("ERR_RELAY_TRUNCATED", "Relay stream ended before its first record");
  }
  decoder.finish();
  return { stream: stream!, manifest: decoder.manifest! };
}
