/** @module Round-trip, chunking and corruption tests of the relay stream encoder and decoder (the store prefix: relay-stream.store.test.ts). */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { DecryptError } from "../../crypto/aead.ts";
import { decode, encode, manifestFor, payloadOf, SESSION_KEY } from "../../test/support/relay-stream-kit.ts";
import {
  MAX_RELAY_DATA_BYTES,
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  RelayStreamError,
  type RelayStreamId,
  relayKey,
} from "./relay-stream.ts";
import { RelayStreamEncoder, relayStreamSize } from "./relay-stream-encoder.ts";

const OTHER_KEY = new Uint8Array(32).fill(8);

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
