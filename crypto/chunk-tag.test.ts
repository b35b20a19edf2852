/** @module Tests for GMAC tags on clear chunks: round trip, position binding, tampering, no confusion with sealing. */
import { describe, expect, test } from "bun:test";
import {
  DecryptError,
  generateSessionKeyBytes,
  importSessionKey,
  openChunk,
  sealChunk,
  TAG_BYTES,
} from "./aead.ts";
import { AAD_ROOM_BYTES, tagChunk, verifyChunkTag } from "./chunk-tag.ts";

const POS = { context: "S1", stream: 1, index: 5 };

describe("tagChunk()/verifyChunkTag()", () => {
  test("verifyChunkTag() accepts the tag of every size from 0 to 1 MiB", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    for (const size of [0, 1, 16, 4097, 1 << 20]) {
      const bytes = new Uint8Array(size).fill(size & 0xff);
      const tag = await tagChunk(key, POS, bytes);
      expect(tag.byteLength).toBe(TAG_BYTES);
      await verifyChunkTag(key, POS, bytes, tag);
    }
  });

  const bad: Array<[string, (b: Uint8Array, t: Uint8Array) => [object, Uint8Array, Uint8Array, boolean?]]> = [
    ["a flipped data bit", (b, t) => [POS, Uint8Array.from(b, (v, i) => (i === 3 ? v ^ 1 : v)), t]],
    ["a flipped tag bit", (b, t) => [POS, b, Uint8Array.from(t, (v, i) => (i === 0 ? v ^ 0x80 : v))]],
    ["a truncated tag", (b, t) => [POS, b, t.subarray(0, 15)]],
    ["truncated data", (b, t) => [POS, b.subarray(1), t]],
    ["another index (replay/reorder)", (b, t) => [{ ...POS, index: 6 }, b, t]],
    ["another stream", (b, t) => [{ ...POS, stream: 2 }, b, t]],
    ["another session", (b, t) => [{ ...POS, context: "S2" }, b, t]],
    ["another key", (b, t) => [POS, b, t, true]],
  ];
  for (const [name, mutate] of bad) {
    test(`verifyChunkTag() rejects ${name}`, async () => {
      const key = await importSessionKey(generateSessionKeyBytes());
      const bytes = new Uint8Array(100).fill(9);
      const [pos, b, t, otherKey] = mutate(bytes, await tagChunk(key, POS, bytes));
      const k = otherKey ? await importSessionKey(generateSessionKeyBytes()) : key;
      await expect(verifyChunkTag(k, pos as typeof POS, b, t)).rejects.toBeInstanceOf(DecryptError);
    });
  }

  test("a clear tag never opens as a sealed chunk and vice versa", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    const tag = await tagChunk(key, POS, new Uint8Array(0));
    // An empty clear chunk and an empty sealed chunk are the same GCM call; that is why the direct channel's
    // clear frames always carry at least their type byte.
    const sealedEmpty = await sealChunk(key, POS, new Uint8Array(0));
    expect(Buffer.compare(tag, sealedEmpty)).toBe(0);
    const tag1 = await tagChunk(key, POS, new Uint8Array([0x15]));
    await expect(openChunk(key, POS, tag1)).rejects.toBeInstanceOf(DecryptError);
    const sealed = await sealChunk(key, POS, new Uint8Array([0x15]));
    await expect(verifyChunkTag(key, POS, new Uint8Array([0x15]), sealed.subarray(1))).rejects.toBeInstanceOf(
      DecryptError,
    );
  });

  /** `bytes` copied behind AAD_ROOM_BYTES of scratch in a buffer of its own. */
  function withRoom(bytes: Uint8Array): Uint8Array {
    const v = new Uint8Array(AAD_ROOM_BYTES + bytes.byteLength).subarray(AAD_ROOM_BYTES);
    v.set(bytes);
    return v;
  }
  const longContext = { ...POS, context: `pvrlink/direct/${"s".repeat(64)}` };
  const roomCases = [
    { name: "a short context", pos: POS },
    { name: "the longest direct-channel context", pos: longContext },
  ];
  for (const c of roomCases) {
    test(`tagChunk() with room gives the copying tag for ${c.name}, and verifyChunkTag() with room takes it`, async () => {
      const key = await importSessionKey(generateSessionKeyBytes());
      const bytes = new Uint8Array(4097).map((_, i) => i & 0xff);
      const tag = await tagChunk(key, c.pos, withRoom(bytes), { room: true });
      expect(tag).toEqual(await tagChunk(key, c.pos, bytes));
      await verifyChunkTag(key, c.pos, withRoom(bytes), tag, { room: true });
      const tampered = withRoom(bytes);
      tampered[7] = (tampered[7] ?? 0) ^ 1;
      await expect(verifyChunkTag(key, c.pos, tampered, tag, { room: true })).rejects.toBeInstanceOf(
        DecryptError,
      );
    });
  }
  test("tagChunk() with room rejects a chunk with no room before it (RangeError)", async () => {
    const key = await importSessionKey(generateSessionKeyBytes());
    await expect(tagChunk(key, POS, new Uint8Array(10), { room: true })).rejects.toBeInstanceOf(RangeError);
  });
});
