/** @module Tests of the store stream's HPKE enc prefix: written ahead of record 0, read back, and refused when damaged or swapped. */
import { describe, expect, test } from "bun:test";
import { DecryptError } from "../../crypto/aead.ts";
import { decode, encode, manifestFor, payloadOf, SESSION_KEY } from "../../test/support/relay-stream-kit.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  encodeStorePrefix,
  parseStorePrefix,
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  relayKey,
  STORE_PREFIX_BYTES,
} from "./relay-stream.ts";
import { RelayStreamDecoder } from "./relay-stream-decoder.ts";
import { RelayStreamEncoder, relayStreamSize } from "./relay-stream-encoder.ts";

const ENC = new Uint8Array(32).fill(5);

/** A store stream as a store sender makes it: the prefix for `enc`, then the records under that enc's context. */
async function encodeStore(payload: Uint8Array, enc = ENC, sessionId = "s1"): Promise<Uint8Array> {
  const e = new RelayStreamEncoder(await relayKey(SESSION_KEY), sessionId, RELAY_STREAM_WHOLE, {
    storeEnc: enc,
  });
  const parts = [await e.manifest(manifestFor(payload)), ...(await e.data(payload)), ...(await e.end())];
  expect(e.bytesOut).toBe(parts.reduce((n, p) => n + p.byteLength, 0));
  return Buffer.concat(parts);
}

/** Reads a stored stream as the callee does: the prefix's enc, then the records under it; the payload or the error's code. */
async function decodeStore(wire: Uint8Array, sessionId = "s1"): Promise<Uint8Array | string> {
  try {
    const prefix = parseStorePrefix(wire);
    if (typeof prefix === "string") return prefix;
    const dec = new RelayStreamDecoder(await relayKey(SESSION_KEY), sessionId, RELAY_STREAM_WHOLE, {
      storeEnc: prefix.enc,
    });
    const records = await dec.push(wire.subarray(STORE_PREFIX_BYTES));
    dec.finish();
    return Buffer.concat(records.flatMap((r) => (r.type === "data" ? [r.bytes] : [])));
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

describe("store stream (HPKE enc prefix)", () => {
  test("RelayStreamEncoder with storeEnc puts the versioned prefix ahead of record 0, and relayStreamSize() counts it", async () => {
    const payload = payloadOf(1_500_000, 3);
    const wire = await encodeStore(payload);
    expect(Buffer.from(wire.subarray(0, 6)).toString("hex")).toBe("505652530120");
    expect(Buffer.from(wire.subarray(6, STORE_PREFIX_BYTES)).equals(Buffer.from(ENC))).toBe(true);
    expect(wire.byteLength).toBe(relayStreamSize(manifestFor(payload), { store: true }));
    expect(wire.byteLength).toBe(relayStreamSize(manifestFor(payload)) + STORE_PREFIX_BYTES);
    expect(Buffer.from(await decodeStore(wire)).equals(Buffer.from(payload))).toBe(true);
  });

  test("RelayStreamEncoder with storeEnc is deterministic, so send --resume re-encodes identical bytes", async () => {
    const payload = payloadOf(200_000, 4);
    expect(Buffer.from(await encodeStore(payload)).equals(Buffer.from(await encodeStore(payload)))).toBe(
      true,
    );
  });

  test("a store stream with a swapped enc does not open", async () => {
    const wire = await encodeStore(payloadOf(5000, 5));
    const swapped = encodeStorePrefix(new Uint8Array(32).fill(6));
    expect(await decodeStore(Buffer.concat([swapped, wire.subarray(STORE_PREFIX_BYTES)]))).toBe(
      "ERR_DECRYPT",
    );
  });

  test("a store stream with its prefix stripped reads as a live stream, and does not open", async () => {
    const stripped = (await encodeStore(payloadOf(5000, 5))).subarray(STORE_PREFIX_BYTES);
    expect(parseStorePrefix(stripped)).toBe("absent");
    await expect(decode(stripped)).rejects.toBeInstanceOf(DecryptError);
  });

  test("a store stream's records do not open as a live stream's, nor a live stream's as a store's", async () => {
    const payload = payloadOf(5000, 6);
    await expect(decode((await encodeStore(payload)).subarray(STORE_PREFIX_BYTES))).rejects.toBeInstanceOf(
      DecryptError,
    );
    const live = await encode(payload);
    expect(await decodeStore(Buffer.concat([encodeStorePrefix(ENC), live]))).toBe("ERR_DECRYPT");
  });

  test("a store stream moved to another session does not open", async () => {
    expect(await decodeStore(await encodeStore(payloadOf(5000, 7)), "s2")).toBe("ERR_DECRYPT");
  });

  test.each([
    ["another version", "5056525302", "ERR_RELAY_PROTOCOL"],
    ["another enc length", "505652530121", "ERR_RELAY_PROTOCOL"],
    ["only the magic", "50565253", "incomplete"],
    ["a cut enc", `505652530120${"05".repeat(31)}`, "incomplete"],
    ["a live record's length first", "00000040", "absent"],
    ["an unknown first byte", "51", "absent"],
  ])("parseStorePrefix() reads %s", (_name, head, want) => {
    expect(String(decodeStorePrefixCode(Buffer.from(head, "hex")))).toBe(want);
  });

  test("a split stream sealed to the callee (a fallback's) round-trips with the prefix, under its own stream id only", async () => {
    const key = await relayKey(SESSION_KEY);
    const enc = new RelayStreamEncoder(key, "s1", RELAY_STREAM_PROTECTED, { storeEnc: ENC });
    const payload = payloadOf(3000, 2);
    const wire = Buffer.concat([
      await enc.manifest(manifestFor(payload, { kind: "split-protected" })),
      ...(await enc.data(payload)),
      ...(await enc.end()),
    ]);
    expect(parseStorePrefix(wire)).toMatchObject({ enc: ENC });
    const body = wire.subarray(STORE_PREFIX_BYTES);
    const ok = await new RelayStreamDecoder(key, "s1", RELAY_STREAM_PROTECTED, { storeEnc: ENC }).push(body);
    expect(ok.map((r) => r.type)).toEqual(["manifest", "data", "end"]);
    await expect(
      new RelayStreamDecoder(key, "s1", RELAY_STREAM_DIRECT, { storeEnc: ENC }).push(body),
    ).rejects.toThrow(DecryptError);
    expect(() => encodeStorePrefix(new Uint8Array(31))).toThrow(RangeError);
  });

  test("a store stream survives 200 randomly damaged prefixes and records with typed errors only", async () => {
    const wire = await encodeStore(payloadOf(3000, 8));
    const rnd = new SeededRandom(9);
    for (let i = 0; i < 200; i++) {
      const bad = new Uint8Array(wire);
      const at = rnd.below(STORE_PREFIX_BYTES + 40);
      bad[at] = (bad[at] ?? 0) ^ (1 + rnd.below(255));
      const got = await decodeStore(bad);
      expect(["ERR_DECRYPT", "ERR_RELAY_PROTOCOL", "ERR_RELAY_TRUNCATED", "absent"]).toContain(got as string);
    }
  });
});

function decodeStorePrefixCode(head: Uint8Array): string {
  try {
    const p = parseStorePrefix(head);
    return typeof p === "string" ? p : "enc";
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}
