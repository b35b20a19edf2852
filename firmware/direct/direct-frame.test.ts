/** @module Tests for the direct channel's preamble and frame reader, including a fuzz of both. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { DirectChannelError } from "./direct-error.ts";
import {
  decodePreamble,
  encodePreamble,
  FrameReader,
  frameHeader,
  MAX_SEALED_FRAME,
  MIN_SEALED_FRAME,
  SALT_BYTES,
} from "./direct-frame.ts";

const salt = new Uint8Array(SALT_BYTES).fill(7);

describe("encodePreamble() / decodePreamble()", () => {
  const contact = { connectBy: 1_800_000_000_123, ticket: new Uint8Array(32).fill(5) };
  test("round-trips with the contact ticket and reports the bytes used", () => {
    const bytes = encodePreamble({ salt, sessionId: "sess_abc-123", contact });
    const tail = new Uint8Array([9, 9]);
    const both = new Uint8Array([...bytes, ...tail]);
    expect(decodePreamble(both)).toEqual({
      preamble: { salt, sessionId: "sess_abc-123", contact },
      length: bytes.length,
    });
  });
  test("a preamble without a contact ticket carries zeros there, which no ticket check accepts", () => {
    const bytes = encodePreamble({ salt, sessionId: "s1" });
    expect(decodePreamble(bytes)?.preamble.contact).toEqual({ connectBy: 0, ticket: new Uint8Array(32) });
  });
  test("decodePreamble() reads a preamble at a non-zero byteOffset", () => {
    const bytes = encodePreamble({ salt, sessionId: "s1", contact });
    const shifted = new Uint8Array(bytes.length + 3).fill(0xee);
    shifted.set(bytes, 3);
    expect(decodePreamble(shifted.subarray(3))?.preamble.contact).toEqual(contact);
  });
  test("encodePreamble() rejects a contact ticket of the wrong length", () => {
    expect(() =>
      encodePreamble({ salt, sessionId: "s1", contact: { connectBy: 1, ticket: new Uint8Array(31) } }),
    ).toThrow(RangeError);
  });
  test("asks for more bytes at every prefix", () => {
    const bytes = encodePreamble({ salt, sessionId: "s1" });
    for (let n = 0; n < bytes.length; n++) expect(decodePreamble(bytes.subarray(0, n))).toBeUndefined();
  });
  const bad: Array<[string, (b: Uint8Array) => void]> = [
    ["bad magic", (b) => (b[0] = 0x47)],
    ["version 1 (no contact ticket)", (b) => (b[6] = 1)],
    ["version 3", (b) => (b[6] = 3)],
    ["session id length 0", (b) => (b[23] = 0)],
    ["session id length 65", (b) => (b[23] = 65)],
    ["a non-base64url session id", (b) => (b[24] = 0x2f)],
  ];
  for (const [what, corrupt] of bad) {
    test(`decodePreamble() rejects ${what}`, () => {
      const b = encodePreamble({ salt, sessionId: "s1" });
      corrupt(b);
      expect(() => decodePreamble(b)).toThrow(expect.objectContaining({ code: "ERR_DIRECT_PROTOCOL" }));
    });
  }
  test("decodePreamble() rejects bad magic from the first byte, without waiting", () => {
    expect(() => decodePreamble(new Uint8Array([0x16]))).toThrow(DirectChannelError); // a TLS ClientHello
  });
  test("encodePreamble() rejects a session id with a slash", () => {
    expect(() => encodePreamble({ salt, sessionId: "a/b" })).toThrow(RangeError);
  });
});

function frame(len: number, fill = 1): Uint8Array {
  const out = new Uint8Array(4 + len).fill(fill);
  out.set(frameHeader(len), 0);
  return out;
}

describe("FrameReader", () => {
  test("joins a frame split across chunks and splits two frames in one chunk", () => {
    const a = frame(MIN_SEALED_FRAME, 1);
    const b = frame(100, 2);
    const all = new Uint8Array([...a, ...b]);
    const r = new FrameReader();
    expect(r.push(all.subarray(0, 3))).toEqual([]);
    expect(r.pending).toBe(3);
    const out = [...r.push(all.subarray(3, 30)), ...r.push(all.subarray(30))];
    expect(out.map((f) => [f.length, f[0]])).toEqual([
      [MIN_SEALED_FRAME, 1],
      [100, 2],
    ]);
    expect(r.pending).toBe(0);
  });
  test("rejects a length above the maximum before its body arrives", () => {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, MAX_SEALED_FRAME + 1);
    expect(() => new FrameReader().push(h)).toThrow(
      expect.objectContaining({ code: "ERR_DIRECT_FRAME_TOO_LARGE" }),
    );
  });
  test("rejects a length below a type byte and a tag", () => {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, MIN_SEALED_FRAME - 1);
    expect(() => new FrameReader().push(h)).toThrow(expect.objectContaining({ code: "ERR_DIRECT_PROTOCOL" }));
  });
  test("accepts a frame of exactly the maximum", () => {
    expect(new FrameReader().push(frame(MAX_SEALED_FRAME)).length).toBe(1);
  });

  // Socket chunks of 512 KiB (what Bun reads on loopback) against frames of 1 MiB + 21 bytes: a chunk copied out
  // whole is freed, including one whose head ended the previous frame; one that lent a frame view is not.
  const CHUNK = 512 * 1024;
  const release: Array<{ what: string; frames: number[]; chunk: number; freed: boolean[] }> = [
    {
      what: "frees chunks copied out whole, a tail that began in the previous frame too",
      frames: [MAX_SEALED_FRAME, MAX_SEALED_FRAME],
      chunk: CHUNK,
      freed: [true, true, true, true, false],
    },
    {
      what: "keeps a chunk that lent a frame view, and frees none of its frames' bytes",
      frames: [1000, CHUNK],
      chunk: 4 + 1000 + 4 + CHUNK,
      freed: [false],
    },
  ];
  for (const c of release) {
    test(`FrameReader ${c.what}`, () => {
      const stream = new Uint8Array(c.frames.reduce((n, f) => n + 4 + f, 0));
      let at = 0;
      c.frames.forEach((len, i) => {
        stream.set(frame(len, i + 1), at);
        at += 4 + len;
      });
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < stream.length; o += c.chunk) chunks.push(stream.slice(o, o + c.chunk));
      const r = new FrameReader();
      const out = chunks.flatMap((ch) => r.push(ch));
      expect(out.map((f) => [f.length, f[0], f[f.length - 1]])).toEqual(
        c.frames.map((len, i) => [len, i + 1, i + 1]),
      );
      expect(chunks.map((ch) => (ch.buffer as ArrayBuffer).detached)).toEqual(c.freed);
    });
  }
});

describe("framing under fuzz", () => {
  test("2000 random byte strings either parse or throw DirectChannelError", () => {
    const r = new SeededRandom(12345);
    const valid = encodePreamble({ salt, sessionId: "fuzz" });
    for (let i = 0; i < 2000; i++) {
      const b = i % 2 === 0 ? r.bytes(r.below(64)) : r.sprinkle(valid, 1 / 20);
      for (const run of [() => decodePreamble(b), () => new FrameReader().push(b)]) {
        try {
          run();
        } catch (err) {
          expect(err).toBeInstanceOf(DirectChannelError);
        }
      }
    }
  });
});
