/** @module Tests of the pattern keystream against node:crypto's AES-256-CTR, and of its key and position separation. */
import { describe, expect, test } from "bun:test";
import { createCipheriv } from "node:crypto";
import { deriveKey } from "./hmac.ts";
import { makePatternKeystream } from "./keystream.ts";
import { toBase64url } from "./random-token.ts";

const SESSION = new Uint8Array(32).map((_, i) => i);
const SALT = new Uint8Array(16).map((_, i) => 100 + i);

/** The documented layout computed independently: HKDF key, counter 0^8 || u64 block, plain CTR over zeros. */
function reference(position: number, length: number, salt = SALT): Uint8Array {
  const key = deriveKey(SESSION, `pattern/v1/${toBase64url(salt)}`);
  const iv = Buffer.alloc(16);
  const first = Math.floor(position / 16);
  iv.writeBigUInt64BE(BigInt(first), 8);
  const skip = position - first * 16;
  return new Uint8Array(
    createCipheriv("aes-256-ctr", key, iv)
      .update(Buffer.alloc(skip + length))
      .subarray(skip),
  );
}

describe("makePatternKeystream()", () => {
  const cases: Array<[string, number, number]> = [
    ["at 0", 0, 64],
    ["mid-block", 5, 30],
    ["across blocks", 13, 100],
    ["far out", 2 ** 40 + 3, 20],
    ["longer than its zero buffer", 7, 200_000],
    ["empty", 77, 0],
  ];
  for (const [name, position, length] of cases) {
    test(`makePatternKeystream() matches AES-256-CTR with the documented layout ${name}`, async () => {
      const ks = await makePatternKeystream(SESSION, SALT);
      expect(ks(position, length)).toEqual(reference(position, length));
    });
  }

  // The stream continues where the last call stopped and restarts anywhere else: every order of calls must
  // give the same bytes as the layout, including going back and calling twice at one position.
  const sequences: Array<[string, Array<[number, number]>]> = [
    [
      "continuing calls",
      [
        [0, 5],
        [5, 11],
        [16, 1],
        [17, 40],
      ],
    ],
    [
      "jumps forward and back",
      [
        [100, 3],
        [3, 7],
        [10, 0],
        [10, 33],
        [3, 7],
      ],
    ],
    [
      "the same position twice",
      [
        [9, 20],
        [9, 20],
      ],
    ],
  ];
  for (const [name, calls] of sequences) {
    test(`makePatternKeystream() gives the layout's bytes for ${name}`, async () => {
      const ks = await makePatternKeystream(SESSION, SALT);
      for (const [position, length] of calls)
        expect(ks(position, length)).toEqual(reference(position, length));
    });
  }

  test("makePatternKeystream() does not depend on the caller keeping the session key", async () => {
    const session = SESSION.slice();
    const ks = await makePatternKeystream(session, SALT);
    session.fill(0);
    expect(ks(0, 48)).toEqual(reference(0, 48));
  });

  // Each long run is freed at the next call (its memory then serves the next run): the caller uses a run before
  // asking for the next, and the bytes it got were right while it held them.
  test("makePatternKeystream() frees a long run at the next call and keeps a short one", async () => {
    const ks = await makePatternKeystream(SESSION, SALT);
    const long = ks(0, 100_000);
    expect(long).toEqual(reference(0, 100_000));
    const short = ks(100_000, 100);
    expect(long.byteLength).toBe(0);
    expect(short).toEqual(reference(100_000, 100));
    const next = ks(100_100, 70_000);
    expect(short).toEqual(reference(100_000, 100));
    expect(next).toEqual(reference(100_100, 70_000));
  });

  test("makePatternKeystream() gives different keystreams for different salts and positions", async () => {
    const a = (await makePatternKeystream(SESSION, SALT))(0, 32);
    const b = (await makePatternKeystream(SESSION, new Uint8Array(16)))(0, 32);
    const c = (await makePatternKeystream(SESSION, SALT))(32, 32);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  const bad: Array<[string, () => Promise<unknown>]> = [
    ["a short salt", () => makePatternKeystream(SESSION, new Uint8Array(15))],
    ["a negative position", async () => (await makePatternKeystream(SESSION, SALT))(-1, 1)],
    ["a fractional position", async () => (await makePatternKeystream(SESSION, SALT))(1.5, 1)],
    ["a negative length", async () => (await makePatternKeystream(SESSION, SALT))(0, -1)],
    ["a run past 2^53", async () => (await makePatternKeystream(SESSION, SALT))(2 ** 53 - 4, 8)],
  ];
  for (const [name, fn] of bad) {
    test(`makePatternKeystream() rejects ${name}`, async () => expect(fn()).rejects.toThrow(RangeError));
  }
});
