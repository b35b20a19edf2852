/** @module Downloads one relay transfer from the node and decodes its sealed records, resuming when the stream stalls. */
import type { ControlClient } from "../../protocol/control-client.ts";
import {
  DecryptError,
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayRecord,
  RelayStreamDecoder,
  RelayStreamError,
  type RelayStreamId,
  relayKey,
} from "../transfer/relay-stream.ts";

export interface RelayReaderOptions {
  client: ControlClient;
  transferId: string;
  sessionId: string;
  /** Raw 32-byte session key from the grant. */
  sessionKey: Uint8Array;
  /** The stream id when known (OFFER meta.relay.stream); otherwise found from record 0. */
  stream?: RelayStreamId;
  signal?: AbortSignal;
  /** Resumes after a download that ended early (a live follow times out after 30 s without growth). */
  maxResumes?: number;
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
  head: Uint8Array,
): Promise<RelayStreamId | undefined> {
  for (const s of STREAMS) {
    const d = new RelayStreamDecoder(key, sessionId, s);
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
  const key = await relayKey(o.sessionKey);
  let decoder: RelayStreamDecoder | undefined =
    o.stream === undefined ? undefined : new RelayStreamDecoder(key, o.sessionId, o.stream);
  let stream = o.stream;
  let head: Uint8Array[] = [];
  let headBytes = 0;
  let offset = 0;
  let resumes = 0;
  const maxResumes = o.maxResumes ?? 20;
  for (;;) {
    o.signal?.throwIfAborted();
    const res = await o.client.downloadData(o.transferId, offset);
    const body = res.body;
    if (!body) break;
    let progressed = false;
    const reader = body.getReader();
    const onAbort = () => void reader.cancel().catch(() => {});
    o.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.byteLength === 0) continue;
        offset += value.byteLength;
        progressed = true;
        if (!decoder) {
          head.push(value);
          headBytes += value.byteLength;
          if (headBytes < 4) continue;
          const joined = Buffer.concat(head, headBytes);
          const len = joined.readUInt32BE(0);
          if (headBytes < 4 + len && len <= 64 * 1024 + 64) continue;
          stream = await detectStream(key, o.sessionId, joined.subarray(0, Math.min(headBytes, 4 + len)));
          if (stream === undefined) throw new DecryptError();
          decoder = new RelayStreamDecoder(key, o.sessionId, stream);
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
    const info = await o.client.transfer(o.transferId);
    if (info.complete && offset >= Number(info.size ?? info.received)) break;
    if (!progressed && ++resumes > maxResumes) break;
  }
  if (!decoder) {
    throw new RelayStreamError("ERR_RELAY_TRUNCATED", "Relay stream ended before its first record");
  }
  decoder.finish();
  return { stream: stream!, manifest: decoder.manifest! };
}
