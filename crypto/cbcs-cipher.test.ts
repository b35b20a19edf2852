/** @module Tests of the cbcs cipher: CBC per chain from the constant IV against a block-by-block reference, chains continued across calls, refusals. */
import { describe, expect, test } from "bun:test";
import { createCipheriv, createSecretKey } from "node:crypto";
import { cbcsTransform, makeCbcsTransform } from "./cbcs-cipher.ts";

const KEY = new Uint8Array(16).map((_, i) => 3 * i + 1);
const IV = new Uint8Array(16).map((_, i) => 255 - i);
const SESSION = new Uint8Array(32).map((_, i) => i);
const SALT = new Uint8Array(16).fill(7);

/** CBC by hand over `blocks`, restarting at `restarts`: the reference. */
function reference(blocks: Uint8Array, restarts: number[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(blocks.length);
  let prev = Buffer.from(IV);
  for (let b = 0; b < blocks.length / 16; b++) {
    if (restarts.includes(b)) prev = Buffer.from(IV);
    const x = Buffer.from(blocks.subarray(b * 16, b * 16 + 16));
    for (let k = 0; k < 16; k++) x[k]! ^= prev[k]!;
    prev = createCipheriv("aes-128-ecb", KEY, null).setAutoPadding(false).update(x);
    out.set(prev, b * 16);
  }
  return out;
}

describe("cbcsTransform()", () => {
  const plain = new Uint8Array(16 * 7).map((_, i) => (i * 29) & 0xff);
  const cases: Array<[string, number[][]]> = [
    ["one call, one chain", [[0]]],
    ["one call, chains at 0, 3 and 4", [[0, 3, 4]]],
    ["one call, one-block chains (1, 2, 6) among longer ones", [[0, 1, 2, 3, 6]]],
    ["one call, every block its own chain", [[0, 1, 2, 3, 4, 5, 6]]],
    ["one call, the first block continuing, then one-block chains", [[1, 2, 4]]],
  ];
  for (const [name, [restarts]] of cases) {
    test(`cbcsTransform() encrypts as CBC per chain and decrypts back: ${name}`, () => {
      const data = plain.slice();
      cbcsTransform(createSecretKey(KEY), IV, "encrypt")(data, restarts!);
      expect(data).toEqual(new Uint8Array(reference(plain, restarts!)));
      cbcsTransform(createSecretKey(KEY), IV, "decrypt")(data, restarts!);
      expect(data).toEqual(plain);
    });
  }

  test("cbcsTransform() continues a chain across calls", () => {
    const enc = cbcsTransform(createSecretKey(KEY), IV, "encrypt");
    const a = plain.slice(0, 48);
    const b = plain.slice(48);
    enc(a, [0]);
    enc(b, [2]); // block 3 overall continues block 2; block 5 overall restarts
    expect([...a, ...b]).toEqual([...reference(plain, [0, 5])]);
    const dec = cbcsTransform(createSecretKey(KEY), IV, "decrypt");
    dec(a, [0]);
    dec(b, [2]);
    expect(new Uint8Array([...a, ...b])).toEqual(plain);
  });

  test("cbcsTransform() continues a one-block chain that ends a call into the next call", () => {
    const enc = cbcsTransform(createSecretKey(KEY), IV, "encrypt");
    const a = plain.slice(0, 48);
    const b = plain.slice(48);
    enc(a, [0, 1, 2]); // blocks 1 and 2 begin chains; block 2's goes on in b
    enc(b, [1]);
    expect([...a, ...b]).toEqual([...reference(plain, [0, 1, 2, 4])]);
  });

  const refusals: Array<[string, () => unknown]> = [
    ["a key of 32 bytes", () => cbcsTransform(createSecretKey(new Uint8Array(32)), IV, "encrypt")],
    ["an IV of 8 bytes", () => cbcsTransform(createSecretKey(KEY), IV.subarray(0, 8), "encrypt")],
    [
      "bytes that are not whole blocks",
      () => cbcsTransform(createSecretKey(KEY), IV, "encrypt")(new Uint8Array(20), [0]),
    ],
    [
      "restarts out of order",
      () => cbcsTransform(createSecretKey(KEY), IV, "encrypt")(new Uint8Array(64), [0, 2, 1]),
    ],
    ["a salt of 8 bytes", () => makeCbcsTransform(SESSION, SALT.subarray(0, 8), "encrypt")],
  ];
  for (const [name, run] of refusals) {
    test(`cbcsTransform() rejects ${name} with a RangeError`, async () => {
      let caught: unknown;
      try {
        await run();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(RangeError);
    });
  }

  test("makeCbcsTransform() keys each salt apart and decrypts its own", async () => {
    const a = plain.slice();
    const b = plain.slice();
    (await makeCbcsTransform(SESSION, SALT, "encrypt"))(a, [0]);
    (await makeCbcsTransform(SESSION, new Uint8Array(16).fill(8), "encrypt"))(b, [0]);
    expect(a).not.toEqual(b);
    (await makeCbcsTransform(SESSION, SALT, "decrypt"))(a, [0]);
    expect(a).toEqual(plain);
  });
});
