/** @module Tests for RelayStreamDecoder's ownsChunks: the pushed chunks it frees once copied out, and those it leaves. */
import { describe, expect, test } from "bun:test";
import { manifestFor } from "../../test/support/relay-stream-kit.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { MAX_RELAY_DATA_BYTES, RELAY_STREAM_WHOLE, relayKey } from "./relay-stream.ts";
import { RelayStreamDecoder } from "./relay-stream-decoder.ts";
import { RelayStreamEncoder } from "./relay-stream-encoder.ts";

const SESSION_KEY = new Uint8Array(32).fill(9);
const CHUNK = 96 * 1024;

async function wireOf(payload: Uint8Array): Promise<Uint8Array> {
  const m = manifestFor(payload);
  const enc = new RelayStreamEncoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE);
  const parts = [await enc.manifest(m), ...(await enc.data(payload)), ...(await enc.end())];
  return Buffer.concat(parts);
}

/** The wire cut into chunks of CHUNK bytes, each a fresh buffer of its own, as a download's chunks are. */
function chunksOf(wire: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < wire.byteLength; at += CHUNK) out.push(new Uint8Array(wire.subarray(at, at + CHUNK)));
  return out;
}

describe("RelayStreamDecoder ownsChunks", () => {
  const cases = [
    { name: "frees every chunk it copied out whole, with ownsChunks", owns: true },
    { name: "frees none of the pushed chunks without ownsChunks", owns: false },
  ];
  for (const c of cases) {
    test(`RelayStreamDecoder ${c.name}`, async () => {
      const payload = new SeededRandom(3).bytes(2 * MAX_RELAY_DATA_BYTES + 12_345);
      const wire = await wireOf(payload);
      const chunks = chunksOf(wire);
      const sizes = chunks.map((ch) => ch.byteLength);
      const dec = new RelayStreamDecoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE, {
        ownsChunks: c.owns,
      });
      const data: Uint8Array[] = [];
      for (const ch of chunks) {
        for (const r of await dec.push(ch)) if (r.type === "data") data.push(Buffer.from(r.bytes));
      }
      dec.finish();
      expect(Buffer.compare(Buffer.concat(data), payload)).toBe(0);
      const freed = chunks.filter((ch, i) => ch.byteLength === 0 && sizes[i]! > 0).length;
      if (!c.owns) {
        expect(freed).toBe(0);
        return;
      }
      // A chunk whose bytes straddle two records is split by the first take: its tail is a partial view, left
      // for the collector. Every other chunk of the stream is freed.
      const straddling = chunks.length - freed;
      expect(freed).toBeGreaterThan(chunks.length / 2);
      expect(straddling).toBeGreaterThan(0);
      expect(straddling).toBeLessThanOrEqual(5);
    });
  }

  test("RelayStreamDecoder still rejects a damaged record with ownsChunks", async () => {
    const wire = await wireOf(new SeededRandom(4).bytes(300_000));
    wire[wire.byteLength - 200]! ^= 1;
    const dec = new RelayStreamDecoder(await relayKey(SESSION_KEY), "s1", RELAY_STREAM_WHOLE, {
      ownsChunks: true,
    });
    const run = async () => {
      for (const ch of chunksOf(wire)) await dec.push(ch);
    };
    expect(run()).rejects.toThrow();
  });
});
