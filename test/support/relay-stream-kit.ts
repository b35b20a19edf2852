/** @module Test kit for relay streams: seeded payloads, their manifests, and a stream encoded and decoded as sender and callee do. */
import { expect } from "bun:test";
import { createHash } from "node:crypto";
import {
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayRecord,
  type RelayStreamId,
  relayKey,
} from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamDecoder } from "../../firmware/transfer/relay-stream-decoder.ts";
import { RelayStreamEncoder } from "../../firmware/transfer/relay-stream-encoder.ts";
import { SeededRandom } from "./seeded-random.ts";

/** The session key every stream here is under unless a test names another. */
export const SESSION_KEY = new Uint8Array(32).fill(7);
/** `n` bytes of seeded noise: the same payload for the same seed. */
export function payloadOf(n: number, seed = 1): Uint8Array {
  return new SeededRandom(seed).bytes(n);
}

/** The sealed manifest of a whole recording carrying `payload`, with `over` replacing fields. */
export function manifestFor(payload: Uint8Array, over: Partial<RelayManifest> = {}): RelayManifest {
  return {
    name: "rec.m2v",
    kind: "whole",
    size: payload.byteLength,
    originalSize: payload.byteLength,
    sha256: createHash("sha256").update(payload).digest("hex"),
    recordingType: "es",
    secret: true,
    sender: "alice",
    ...over,
  };
}

/** `payload` as a sender's RelayStreamEncoder writes it, fed in `piece`-byte calls; checks bytesOut adds up. */
export async function encode(
  payload: Uint8Array,
  opts: {
    sessionId?: string;
    stream?: RelayStreamId;
    key?: Uint8Array;
    manifest?: RelayManifest;
    piece?: number;
  } = {},
): Promise<Uint8Array> {
  const enc = new RelayStreamEncoder(
    await relayKey(opts.key ?? SESSION_KEY),
    opts.sessionId ?? "s1",
    opts.stream ?? RELAY_STREAM_WHOLE,
  );
  const parts: Uint8Array[] = [await enc.manifest(opts.manifest ?? manifestFor(payload))];
  const piece = opts.piece ?? 300_000;
  for (let at = 0; at < payload.byteLength; at += piece)
    parts.push(...(await enc.data(payload.subarray(at, at + piece))));
  parts.push(...(await enc.end()));
  expect(enc.bytesOut).toBe(parts.reduce((n, p) => n + p.byteLength, 0));
  return Buffer.concat(parts);
}

/** `wire` read back by a RelayStreamDecoder in `chunk`-byte pushes: its records and the payload they carry. */
export async function decode(
  wire: Uint8Array,
  opts: { sessionId?: string; stream?: RelayStreamId; key?: Uint8Array; chunk?: number } = {},
): Promise<{ records: RelayRecord[]; payload: Uint8Array }> {
  const dec = new RelayStreamDecoder(
    await relayKey(opts.key ?? SESSION_KEY),
    opts.sessionId ?? "s1",
    opts.stream ?? RELAY_STREAM_WHOLE,
  );
  const records: RelayRecord[] = [];
  const step = opts.chunk ?? 65536;
  for (let at = 0; at < wire.byteLength; at += step)
    records.push(...(await dec.push(wire.subarray(at, at + step))));
  dec.finish();
  const payload = Buffer.concat(records.flatMap((r) => (r.type === "data" ? [r.bytes] : [])));
  return { records, payload };
}
