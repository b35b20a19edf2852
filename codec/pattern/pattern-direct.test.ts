/** @module Round trips of pattern mode on every fixture: split, encode the direct part, decode it in chunks, merge byte-exact; damage and wrong keys. */
import { describe, expect, test } from "bun:test";
import { createCipheriv } from "node:crypto";
import { deriveKey } from "../../crypto/hmac.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { toBase64url } from "../../crypto/random-token.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { bodyOfSegmented } from "../../test/support/segmented-body.ts";
import { CodecError } from "../codec-error.ts";
import { indexRecording } from "../container/index-recording.ts";
import { concat, mergeBytes, splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { PatternCipher } from "./pattern-cipher.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { PATTERN_VERSION_SEGMENTED } from "./pattern-header.ts";
import { PATTERN_HEADER_V5_BYTES } from "./pattern-header-v5.ts";
import { planPattern } from "./pattern-planner.ts";
import { DEFAULT_PATTERN_SCHEME, type PatternScheme } from "./pattern-scheme.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const SALT = new Uint8Array(16).map((_, i) => 200 - i);

async function run(
  feed: (c: Uint8Array) => Promise<Uint8Array[]>,
  chunks: Uint8Array[],
): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...(await feed(c)));
  return concat(out);
}

/**
 * The wire form of a fixture's direct part and what it came from: in `version` (5, the segmented table, by
 * default; or 1), the first `leaveOut` body bytes left out as a resumed send does. `headerBytes`: the pattern
 * header's own length (version 5's segments follow it among the body).
 */
async function wire(
  bytes: Uint8Array,
  scheme: PatternScheme,
  o: { chunkSeed: number; version?: number; leaveOut?: number },
) {
  const index = indexRecording(bytes);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  const plan = planPattern(bytes, index, scheme);
  const enc = new PatternDirectEncoder(
    { ...plan, version: o.version ?? PATTERN_VERSION_SEGMENTED },
    SALT,
    await makePatternKeystream(SESSION_KEY, SALT),
  );
  enc.leaveOut(o.leaveOut ?? 0);
  // The encoder overwrites its input: hand it a copy so parts.direct stays the plain reference.
  const sent = await run((c) => enc.push(c), new SeededRandom(o.chunkSeed).chunks(parts.direct.slice()));
  enc.finish();
  const headerBytes = enc.version === PATTERN_VERSION_SEGMENTED ? PATTERN_HEADER_V5_BYTES : enc.addedBytes;
  return { index, parts, plan, sent, added: enc.addedBytes, headerBytes };
}

function decoder(key = SESSION_KEY): PatternDirectDecoder {
  return new PatternDirectDecoder((salt) => makePatternKeystream(key, salt));
}

describe("pattern mode round trip on every fixture", () => {
  for (const [name, bytes] of patternFixtures()) {
    test(`pattern mode merges byte-exact after decrypt in random chunkings, versions 1 and 5: ${name}`, async () => {
      for (const [seed, scheme] of [
        [1, DEFAULT_PATTERN_SCHEME],
        [2, { kind: "block", crypt: 1, skip: 9 }],
        [3, { kind: "full" }],
        [4, { kind: "slice-start", bytes: 64 }],
        [5, { kind: "slice-block", crypt: 2, skip: 3 }],
      ] as const) {
        const { parts, plan, sent, added } = await wire(bytes, scheme, { chunkSeed: seed, version: 1 });
        expect(sent.length).toBe(parts.direct.length + added);
        // Only range bytes changed, and the split header is untouched at the front.
        const splitLength = peekSplitHeaderLength(parts.direct)!;
        expect(sent.subarray(0, splitLength)).toEqual(parts.direct.subarray(0, splitLength));
        const body = parts.direct.subarray(splitLength);
        const sentBody = sent.subarray(splitLength + added);
        // Version 5 carries the same rows in segments: its body, the segments taken out, is version 1's.
        const v5 = await wire(bytes, scheme, { chunkSeed: seed + 20 });
        expect(v5.sent.length).toBe(parts.direct.length + v5.added);
        const v5Body = bodyOfSegmented(v5.sent.subarray(splitLength + PATTERN_HEADER_V5_BYTES), body.length);
        expect(Buffer.from(v5Body).equals(Buffer.from(sentBody))).toBe(true);
        const inRange = new Uint8Array(body.length);
        for (const r of plan.ranges.toArray()) inRange.fill(1, r.offset, r.offset + r.length);
        let changed = 0;
        for (let i = 0; i < body.length; i++) {
          if (sentBody[i] !== body[i]) {
            expect(inRange[i]).toBe(1);
            changed++;
          }
        }
        // A keystream leaves a byte unchanged 1 time in 256: most range bytes must differ.
        expect(changed).toBeGreaterThanOrEqual(Math.floor(plan.encryptedBytes * 0.9));
        const dec = decoder();
        const plain = await run((c) => dec.push(c), new SeededRandom(seed + 10).chunks(sent.slice()));
        const header = dec.finish();
        expect("ranges" in header && header.ranges.toArray()).toEqual(plan.ranges.toArray());
        expect(plain).toEqual(parts.direct);
        expect(mergeBytes({ protected: parts.protected, direct: plain }).bytes).toEqual(bytes);
        const dec5 = decoder();
        const plain5 = await run((c) => dec5.push(c), new SeededRandom(seed + 30).chunks(v5.sent.slice()));
        expect(dec5.finish()).toMatchObject({ rangeCount: plan.ranges.count });
        expect(Buffer.from(plain5).equals(Buffer.from(parts.direct))).toBe(true);
      }
    });
  }
});

describe("pattern mode resumed", () => {
  const [name, bytes] = patternFixtures()[0]!;
  for (const version of [1, 5]) {
    test(`PatternDirectDecoder with bodyFrom decrypts a resumed body (headers, then the body past the held bytes) byte-exact, version ${version}: ${name}`, async () => {
      const { parts } = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 1, version });
      const splitLength = peekSplitHeaderLength(parts.direct)!;
      const body = parts.direct.length - splitLength;
      for (const from of [0, 1, body >> 2, body >> 1, body - 1, body]) {
        // What a resumed sender sends: every header and segment, the body past the held bytes.
        const { sent: resumed } = await wire(bytes, DEFAULT_PATTERN_SCHEME, {
          chunkSeed: 1,
          version,
          leaveOut: from,
        });
        const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
          bodyFrom: from,
        });
        const plain = await run((c) => dec.push(c), new SeededRandom(from + 3).chunks(resumed.slice()));
        dec.finish();
        expect([
          from,
          Buffer.from(plain.subarray(splitLength)).equals(parts.direct.subarray(splitLength + from)),
        ]).toEqual([from, true]);
      }
    });

    test(`PatternDirectDecoder with bodyFrom past the body fails ERR_PATTERN_LENGTH, version ${version}`, async () => {
      const { parts, sent, headerBytes } = await wire(bytes, DEFAULT_PATTERN_SCHEME, {
        chunkSeed: 1,
        version,
      });
      const splitLength = peekSplitHeaderLength(parts.direct)!;
      const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
        bodyFrom: parts.direct.length - splitLength + 1,
      });
      await expect(dec.push(sent.slice(0, splitLength + headerBytes))).rejects.toMatchObject({
        code: "ERR_PATTERN_LENGTH",
      });
    });
  }
});

describe("PatternCipher", () => {
  for (const scheme of [undefined, { kind: "slice-block", crypt: 1, skip: 2 } as const]) {
    test(`PatternCipher gives the same ciphertext for every chunking: ${scheme === undefined ? "whole ranges" : "slice-block 1:2"}`, async () => {
      const ranges = [
        { offset: 3, length: 40 },
        { offset: 50, length: 1 },
        { offset: 60, length: 100 },
        { offset: 999, length: 1 },
      ];
      const ks = await makePatternKeystream(SESSION_KEY, SALT);
      const reference = new Uint8Array(1000).map((_, i) => i & 0xff);
      const whole = reference.slice();
      new PatternCipher({ ranges, scheme }, 1000, ks).apply(whole);
      expect(whole).not.toEqual(reference);
      for (let seed = 1; seed <= 20; seed++) {
        const data = reference.slice();
        const c = new PatternCipher({ ranges, scheme }, 1000, ks);
        for (const piece of new SeededRandom(seed).chunks(data)) c.apply(piece);
        c.finish();
        expect(data).toEqual(whole);
      }
    });
  }

  // 1.2 MB of range bytes spans several of the cipher's 256 KiB keystream runs.
  const layouts: Array<[string, number, Array<{ offset: number; length: number }>]> = [
    [
      "a few ranges",
      120,
      [
        { offset: 1, length: 3 },
        { offset: 10, length: 70 },
        { offset: 90, length: 17 },
      ],
    ],
    [
      "20 000 ranges over 2 MB",
      2_000_000,
      Array.from({ length: 20_000 }, (_, i) => ({ offset: i * 100 + (i % 7), length: 60 + (i % 30) })),
    ],
  ];
  // slice-block applies its rule inside each range: [crypt, period] bytes, or every byte.
  const rules: Array<[string, PatternScheme | undefined, number, number]> = [
    ["every range byte", undefined, 1, 1],
    ["slice-block 1:9 bytes", { kind: "slice-block", crypt: 1, skip: 9 }, 16, 160],
    ["slice-block 2:1 bytes", { kind: "slice-block", crypt: 2, skip: 1 }, 32, 48],
  ];
  for (const [name, size, ranges] of layouts) {
    for (const [ruleName, scheme, crypt, period] of rules) {
      test(`PatternCipher XORs ${ruleName} with the keystream at their ordinal among encrypted bytes: ${name}`, async () => {
        const data = new Uint8Array(size).map((_, i) => (i * 13) & 0xff);
        const original = data.slice();
        const c = new PatternCipher({ ranges, scheme }, size, await makePatternKeystream(SESSION_KEY, SALT));
        // Random pieces, then the rest in one piece: spans past 64 KiB take the cipher's cache-warming pass.
        const pieces = new SeededRandom(7).chunks(data.subarray(0, size >> 1));
        for (const piece of [...pieces, data.subarray(size >> 1)]) c.apply(piece);
        c.finish();
        // Independent of crypto/keystream.ts: the documented layout straight from node:crypto.
        const total = ranges.reduce((a, r) => a + r.length, 0);
        const key = deriveKey(SESSION_KEY, `pattern/v1/${toBase64url(SALT)}`);
        const ks = createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(total));
        const expected = original.slice();
        let k = 0;
        for (const r of ranges) {
          for (let x = r.offset; x < r.offset + r.length; x++) {
            if ((x - r.offset) % period < crypt) expected[x]! ^= ks[k++]!;
          }
        }
        expect(k).toBeGreaterThan(0);
        expect(Buffer.from(data).equals(Buffer.from(expected))).toBe(true);
      });
    }
  }

  test("PatternCipher rejects bytes past the body and a short body", async () => {
    const ks = await makePatternKeystream(SESSION_KEY, SALT);
    const c = new PatternCipher({ ranges: [{ offset: 0, length: 4 }] }, 8, ks);
    c.apply(new Uint8Array(6));
    expect(() => c.finish()).toThrow(CodecError);
    expect(() => c.apply(new Uint8Array(3))).toThrow(CodecError);
  });
});

describe("PatternDirectDecoder on bad input", () => {
  const [, bytes] = patternFixtures().find(([n]) => n.endsWith("mpeg2-gop12.m2v"))!;

  test("PatternDirectDecoder with the wrong session key fails the merge's integrity check", async () => {
    const { parts, sent } = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 4 });
    const dec = decoder(new Uint8Array(32).fill(9));
    const plain = await run((c) => dec.push(c), [sent.slice()]);
    expect(() => mergeBytes({ protected: parts.protected, direct: plain })).toThrow(
      expect.objectContaining({ code: "ERR_SPLIT_INTEGRITY" }),
    );
  });

  test("PatternDirectDecoder rejects a pattern header from another split", async () => {
    const a = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 5 });
    const [, other] = patternFixtures().find(([n]) => n.endsWith("mpeg2-gop15.m2v"))!;
    const b = await wire(other, DEFAULT_PATTERN_SCHEME, { chunkSeed: 6 });
    const splitA = peekSplitHeaderLength(a.sent)!;
    const splitB = peekSplitHeaderLength(b.sent)!;
    const spliced = concat([
      a.sent.subarray(0, splitA),
      b.sent.subarray(splitB, splitB + b.headerBytes),
      a.sent.subarray(splitA + a.headerBytes),
    ]);
    await expect(run((c) => decoder().push(c), [spliced])).rejects.toThrow(
      expect.objectContaining({ code: "ERR_PATTERN_PAIR" }),
    );
  });

  test("PatternDirectDecoder rejects a plain direct part (no pattern header)", async () => {
    const { parts } = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 7 });
    await expect(run((c) => decoder().push(c), [parts.direct.slice()])).rejects.toThrow(
      expect.objectContaining({ code: "ERR_PATTERN_MAGIC" }),
    );
  });

  for (const version of [1, 5]) {
    test(`PatternDirectDecoder reports truncation inside the headers, version ${version}`, async () => {
      const { sent, headerBytes } = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 8, version });
      const cut = peekSplitHeaderLength(sent)! + Math.floor(headerBytes / 2);
      const dec = decoder();
      await run((c) => dec.push(c), [sent.slice(0, cut)]);
      expect(() => dec.finish()).toThrow(expect.objectContaining({ code: "ERR_PATTERN_TRUNCATED" }));
    });

    test(`PatternDirectDecoder never hangs or crashes on damaged wire bytes (seeded fuzz), version ${version}`, async () => {
      const { parts, sent } = await wire(bytes, DEFAULT_PATTERN_SCHEME, { chunkSeed: 9, version });
      const rnd = new SeededRandom(606);
      const headerEnd = 2000;
      for (let round = 0; round < 60; round++) {
        const bad = sent.slice(0, rnd.next() < 0.3 ? rnd.below(sent.length) : sent.length);
        const flips = 1 + rnd.below(4);
        for (let i = 0; i < flips; i++) bad[rnd.below(Math.min(bad.length, headerEnd))]! ^= 1 << rnd.below(8);
        const dec = decoder();
        try {
          const plain = await run((c) => dec.push(c), rnd.chunks(bad));
          dec.finish();
          mergeBytes({ protected: parts.protected, direct: plain });
          // Damage that survived every check must have left the bytes intact (e.g. a flip past the cut).
          expect(plain).toEqual(parts.direct);
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
          expect((err as CodecError).code).toMatch(/^ERR_(PATTERN|SPLIT)_/);
        }
      }
    });
  }

  test("PatternDirectEncoder rejects a protected part", async () => {
    const index = indexRecording(bytes);
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    const enc = new PatternDirectEncoder(
      { scheme: DEFAULT_PATTERN_SCHEME, ranges: [] },
      SALT,
      await makePatternKeystream(SESSION_KEY, SALT),
    );
    await expect(enc.push(parts.protected.slice())).rejects.toThrow(
      expect.objectContaining({ code: "ERR_PATTERN_PAIR" }),
    );
  });

  const badPlans: Array<
    [string, { scheme: PatternScheme; ranges: { offset: number; length: number }[] }, Uint8Array, string]
  > = [
    [
      "overlapping ranges",
      {
        scheme: DEFAULT_PATTERN_SCHEME,
        ranges: [
          { offset: 0, length: 8 },
          { offset: 4, length: 8 },
        ],
      },
      SALT,
      "ERR_PATTERN_RANGES",
    ],
    [
      "an empty range",
      { scheme: DEFAULT_PATTERN_SCHEME, ranges: [{ offset: 3, length: 0 }] },
      SALT,
      "ERR_PATTERN_RANGES",
    ],
    ["a short salt", { scheme: DEFAULT_PATTERN_SCHEME, ranges: [] }, SALT.subarray(1), "ERR_PATTERN_SALT"],
  ];
  for (const [name, plan, salt, code] of badPlans) {
    test(`PatternDirectEncoder rejects ${name} when made`, async () => {
      const ks = await makePatternKeystream(SESSION_KEY, SALT);
      expect(() => new PatternDirectEncoder(plan, salt, ks)).toThrow(expect.objectContaining({ code }));
    });
  }
});
