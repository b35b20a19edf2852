/** @module Tests of the pattern keystream against node:crypto's AES-256-CTR, and of its key and position separation. */
import { describe, expect, test } from "bun:test";
import { createCipheriv } from "node:crypto";
import { deriveKey } from "./hmac.ts";
import { makePatternKeystream } from "./keystream.ts";
import { toBase64url } from "./random-token.ts";

const SESSION = new Uint8Array(32).map((_, i) => i);
const SALT = new Uint8Array(16).map((_, i) => 100 + i);

/** The documented layout computed independently: HKDF key, counter 0^8 || u64 block, plain CTR. */
function reference(position: number, data: Uint8Array, salt = SALT): Uint8Array {
  const key = deriveKey(SESSION, `pattern/v1/${toBase64url(salt)}`);
  const iv = Buffer.alloc(16);
  const first = Math.floor(position / 16);
  iv.writeBigUInt64BE(BigInt(first), 8);
  const skip = position - first * 16;
  const padded = Buffer.concat([Buffer.alloc(skip), data]);
  return new Uint8Array(createCipheriv("aes-256-ctr", key, iv).update(padded).subarray(skip));
}

describe("makePatternKeystream()", () => {
  const cases: Array<[string, number, number]> = [
    ["at 0", 0, 64],
    ["mid-block", 5, 30],
    ["across blocks", 13, 100],
    ["far out", 2 ** 40 + 3, 20],
    ["empty", 77, 0],
  ];
  for (const [name, position, length] of cases) {
    test(`makePatternKeystream() matches AES-256-CTR with the documented layout ${name}`, async () => {
      const ks = await makePatternKeystream(SESSION, SALT);
      const data = new Uint8Array(length).map((_, i) => i * 3);
      expect(await ks(position, data)).toEqual(reference(position, data));
    });
  }

  test("makePatternKeystream() is its own inverse and leaves its input alone", async () => {
    const ks = await makePatternKeystream(SESSION, SALT);
    const data = new Uint8Array(50).fill(0xaa);
    const once = await ks(9, data);
    expect(data).toEqual(new Uint8Array(50).fill(0xaa));
    expect(await ks(9, once)).toEqual(data);
  });

  test("makePatternKeystream() gives different keystreams for different salts and positions", async () => {
    const zeros = new Uint8Array(32);
    const a = await (await makePatternKeystream(SESSION, SALT))(0, zeros);
    const b = await (await makePatternKeystream(SESSION, new Uint8Array(16)))(0, zeros);
    const c = await (await makePatternKeystream(SESSION, SALT))(32, zeros);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  const bad: Array<[string, () => Promise<unknown>]> = [
    ["a short salt", () => makePatternKeystream(SESSION, new Uint8Array(15))],
    ["a negative position", async () => (await makePatternKeystream(SESSION, SALT))(-1, new Uint8Array(1))],
    [
      "a fractional position",
      async () => (await makePatternKeystream(SESSION, SALT))(1.5, new Uint8Array(1)),
    ],
  ];
  for (const [name, fn] of bad) {
    test(`makePatternKeystream() rejects ${name}`, async () => expect(fn()).rejects.toThrow(RangeError));
  }
});
