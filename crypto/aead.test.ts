/** @module Tests for AES-GCM chunk sealing: round trips, position binding and tamper detection. */
import { describe, expect, test } from "bun:test";
import {
  DecryptError,
  generateSessionKeyBytes,
  importSessionKey,
  openChunk,
  sealChunk,
  TAG_BYTES,
} from "./aead.ts";

describe("sealChunk()/openChunk()", () => {
  test("round-trips chunks of several sizes", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    for (const size of [0, 1, 15, 16, 17, 4096, 1 << 20]) {
      const plain = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
      const data = size > 65536 ? new Uint8Array(size).fill(7) : plain;
      const sealed = await sealChunk(key, { context: "S1", stream: 1, index: size }, data);
      expect(sealed.byteLength).toBe(data.byteLength + TAG_BYTES);
      expect(await openChunk(key, { context: "S1", stream: 1, index: size }, sealed)).toEqual(data);
    }
  });

  const wrongPositions = [
    ["another session", { context: "S2", stream: 1, index: 5 }],
    ["another stream", { context: "S1", stream: 2, index: 5 }],
    ["another index", { context: "S1", stream: 1, index: 6 }],
  ] as const;
  for (const [name, pos] of wrongPositions) {
    test(`openChunk() rejects a chunk opened at ${name}`, async () => {
      const key = await importSessionKey(generateSessionKeyBytes());
      const sealed = await sealChunk(key, { context: "S1", stream: 1, index: 5 }, new Uint8Array([1, 2, 3]));
      expect(openChunk(key, pos, sealed)).rejects.toBeInstanceOf(DecryptError);
    });
  }

  test("openChunk() rejects flipped bits, truncation and a wrong key", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    const pos = { context: "S1", stream: 0, index: 0 };
    const sealed = await sealChunk(key, pos, new Uint8Array(100).fill(1));
    for (let i = 0; i < sealed.length; i += 13) {
      const bad = sealed.slice();
      bad[i]! ^= 0x01;
      expect(openChunk(key, pos, bad)).rejects.toBeInstanceOf(DecryptError);
    }
    expect(openChunk(key, pos, sealed.subarray(0, 10))).rejects.toBeInstanceOf(DecryptError);
    const other = await importSessionKey(generateSessionKeyBytes());
    expect(openChunk(other, pos, sealed)).rejects.toBeInstanceOf(DecryptError);
  });

  test("importSessionKey() rejects a 128-bit key and the key is not extractable", async () => {
    expect(importSessionKey(new Uint8Array(16))).rejects.toBeInstanceOf(RangeError);
    const key = await importSessionKey(generateSessionKeyBytes());
    expect(key.extractable).toBe(false);
  });

  test("sealChunk() rejects a negative stream id", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    expect(sealChunk(key, { context: "S", stream: -1, index: 0 }, new Uint8Array(1))).rejects.toBeInstanceOf(
      RangeError,
    );
  });
});
