/** @module Round-trip, chunking and corruption tests of the relay stream encoder and decoder. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { DecryptError } from "../../crypto/aead.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  encodeStorePrefix,
  MAX_RELAY_DATA_BYTES,
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
} from "./relay-stream.ts";
import { RelayStreamDecoder } from "./relay-stream-decoder.ts";
import { RelayStreamEncoder, relayStreamSize } from "./relay-stream-encoder.ts";

const SESSION_KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(8);

function payloadOf(n: number, seed = 1): Uint8Array {
  return new SeededRandom(seed).bytes(n);
}

function manifestFor(payload: Uint8Array, over: Partial<RelayManifest> = {}): RelayManifest {
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

async function encode(
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

async function decode(
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

describe("relay stream round trip", () => {
  const cases: Array<{ name: string; size: number; piece?: number; chunk?: number; stream?: RelayStreamId }> =
    [
      { name: "empty payload", size: 0 },
      { name: "one byte, fed one byte at a time", size: 1, chunk: 1 },
      { name: "exactly 1 MiB", size: MAX_RELAY_DATA_BYTES, piece: MAX_RELAY_DATA_BYTES },
      {
        name: "2.5 MiB pushed whole, split into 1 MiB records",
        size: 2.5 * MAX_RELAY_DATA_BYTES,
        piece: 1 << 30,
      },
      { name: "odd sizes, decoder chunks of 7 bytes", size: 50_001, piece: 4097, chunk: 7 },
      { name: "protected stream id", size: 10_000, stream: RELAY_STREAM_PROTECTED },
      { name: "direct stream id", size: 10_000, stream: RELAY_STREAM_DIRECT },
    ];
  for (const c of cases) {
    test(`RelayStreamDecoder round-trips ${c.name}`, async () => {
      const payload = payloadOf(c.size);
      const wire = await encode(payload, {
        ...(c.piece !== undefined ? { piece: c.piece } : {}),
        ...(c.stream !== undefined ? { stream: c.stream } : {}),
      });
      const { records, payload: out } = await decode(wire, {
        ...(c.chunk !== undefined ? { chunk: c.chunk } : {}),
        ...(c.stream !== undefined ? { stream: c.stream } : {}),
      });
      expect(Buffer.compare(out, payload)).toBe(0);
      expect(records[0]?.type).toBe("manifest");
      expect(records.at(-1)).toEqual({
        type: "end",
        end: { size: c.size, sha256: createHash("sha256").update(payload).digest("hex") },
      });
      for (const r of records)
        if (r.type === "data") expect(r.bytes.byteLength).toBeLessThanOrEqual(MAX_RELAY_DATA_BYTES);
    });
  }

  test("RelayStreamEncoder is deterministic, so a resumed upload re-seals identical bytes", async () => {
    const payload = payloadOf(2 * MAX_RELAY_DATA_BYTES + 5);
    const a = await encode(payload, { piece: 1000 });
    // Records are cut at 1 MiB whatever the pieces, so a resume that reads the file in other chunks still matches.
    const again = await encode(payload, { piece: 77_777 });
    expect(Buffer.compare(a, again)).toBe(0);
    const otherSession = await encode(payload, { piece: 1000, sessionId: "s2" });
    expect(Buffer.compare(a, otherSession)).not.toBe(0);
  });

  for (const size of [0, 1, MAX_RELAY_DATA_BYTES - 1, MAX_RELAY_DATA_BYTES, 3 * MAX_RELAY_DATA_BYTES + 7]) {
    test(`relayStreamSize() predicts the encoded length of a ${size}-byte payload`, async () => {
      const payload = payloadOf(size);
      const m = manifestFor(payload, { name: "ünïcode name.ts", siblingTransferId: "tr_x" });
      expect((await encode(payload, { manifest: m, piece: 65_536 })).byteLength).toBe(relayStreamSize(m));
    });
  }

  test("RelayStreamDecoder exposes the manifest after record 0", async () => {
    const payload = payloadOf(10);
    const m = manifestFor(payload, { kind: "split-protected", siblingTransferId: "t2", secret: false });
    const { records } = await decode(await encode(payload, { manifest: m }));
    expect(records[0]).toEqual({ type: "manifest", manifest: m });
  });
});

describe("relay stream corruption", () => {
  const payload = payloadOf(3000);
  const errorCases: Array<{ name: string; mutate: (w: Uint8Array) => Uint8Array; code: string }> = [
    {
      name: "a flipped ciphertext bit",
      mutate: (w) => {
        const c = w.slice();
        c[10] = (c[10] as number) ^ 1;
        return c;
      },
      code: "ERR_DECRYPT",
    },
    {
      name: "truncation before END",
      mutate: (w) => w.subarray(0, w.byteLength - 3),
      code: "ERR_RELAY_TRUNCATED",
    },
    { name: "only the length prefix", mutate: (w) => w.subarray(0, 2), code: "ERR_RELAY_TRUNCATED" },
    { name: "empty input", mutate: (w) => w.subarray(0, 0), code: "ERR_RELAY_TRUNCATED" },
    {
      name: "a length prefix above the record maximum",
      mutate: (w) => {
        const c = w.slice();
        new DataView(c.buffer).setUint32(0, 0xffffffff);
        return c;
      },
      code: "ERR_RELAY_PROTOCOL",
    },
    {
      name: "a length prefix below a tag",
      mutate: (w) => {
        const c = w.slice();
        new DataView(c.buffer).setUint32(0, 3);
        return c;
      },
      code: "ERR_RELAY_PROTOCOL",
    },
    {
      name: "trailing bytes after END",
      mutate: (w) => Buffer.concat([w, new Uint8Array([0, 0, 0, 0])]),
      code: "ERR_RELAY_PROTOCOL",
    },
  ];
  for (const c of errorCases) {
    test(`RelayStreamDecoder rejects ${c.name}`, async () => {
      const wire = c.mutate(await encode(payload, { piece: 1000 }));
      const err = await decode(wire, { chunk: 999 }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe(c.code);
    });
  }

  test("RelayStreamDecoder rejects a record dropped from the middle", async () => {
    const big = payloadOf(2 * MAX_RELAY_DATA_BYTES + 10);
    const enc = new RelayStreamEncoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE);
    const m = await enc.manifest(manifestFor(big));
    const parts = await enc.data(big);
    // Each record comes as two pieces: length prefix, sealed bytes.
    expect(parts.length).toBe(4);
    const d1 = Buffer.concat(parts.slice(0, 2));
    const d2 = Buffer.concat(parts.slice(2, 4));
    const end = Buffer.concat(await enc.end());
    const err = await decode(Buffer.concat([m, d2 as Uint8Array, end])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    const swapped = await decode(Buffer.concat([m, d2 as Uint8Array, d1 as Uint8Array, end])).catch(
      (e: unknown) => e,
    );
    expect(swapped).toBeInstanceOf(DecryptError);
  });

  const wrongOpen: Array<{
    name: string;
    opts: { sessionId?: string; stream?: RelayStreamId; key?: Uint8Array };
  }> = [
    { name: "another session id", opts: { sessionId: "s2" } },
    { name: "another stream id", opts: { stream: RELAY_STREAM_PROTECTED } },
    { name: "another session key", opts: { key: OTHER_KEY } },
  ];
  for (const c of wrongOpen) {
    test(`RelayStreamDecoder rejects a stream sealed for ${c.name}`, async () => {
      const err = await decode(await encode(payload), c.opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecryptError);
    });
  }

  test("RelayStreamDecoder rejects a payload longer than the manifest declares", async () => {
    const wire = await encode(payload, { manifest: manifestFor(payload, { size: 100 }) });
    const err = await decode(wire).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayStreamError);
    expect((err as RelayStreamError).code).toBe("ERR_RELAY_INTEGRITY");
  });

  test("RelayStreamDecoder rejects a payload shorter than the manifest declares", async () => {
    const wire = await encode(payload, { manifest: manifestFor(payload, { size: 5000 }) });
    const err = await decode(wire).catch((e: unknown) => e);
    expect((err as RelayStreamError).code).toBe("ERR_RELAY_INTEGRITY");
  });

  for (const from of [-1, 1.5, "7", Number.MAX_SAFE_INTEGER])
    test(`RelayStreamEncoder refuses a manifest whose from is ${String(from)}`, async () => {
      const enc = new RelayStreamEncoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE);
      await expect(
        enc.manifest({ ...manifestFor(payload), from } as unknown as RelayManifest),
      ).rejects.toThrow(/from is not a byte offset/);
    });

  test("RelayStreamEncoder refuses data before the manifest and a malformed manifest", async () => {
    const enc = new RelayStreamEncoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE);
    await expect(enc.data(payload)).rejects.toThrow(TypeError);
    await expect(enc.manifest({ ...manifestFor(payload), sha256: "zz" })).rejects.toThrow(RelayStreamError);
    expect(() => new RelayStreamEncoder({} as CryptoKey, "s1", 4 as RelayStreamId)).toThrow(RangeError);
  });

  test("RelayStreamDecoder survives 300 randomly damaged streams with typed errors only", async () => {
    const good = await encode(payloadOf(5000), { piece: 700 });
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 300; i++) {
      const w = good.slice(0, Math.floor(rnd() * (good.byteLength + 1)));
      const flips = Math.floor(rnd() * 3);
      for (let f = 0; f < flips && w.byteLength > 0; f++) {
        const at = Math.floor(rnd() * w.byteLength);
        w[at] = (w[at] as number) ^ (1 + Math.floor(rnd() * 255));
      }
      const res = await decode(w, { chunk: 1 + Math.floor(rnd() * 2000) }).catch((e: unknown) => e);
      if (res instanceof Error) {
        expect(res instanceof DecryptError || res instanceof RelayStreamError).toBe(true);
      } else {
        // Only an undamaged, untruncated stream may decode.
        expect(w.byteLength).toBe(good.byteLength);
        expect(Buffer.compare(w, good)).toBe(0);
      }
    }
  });
});

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
