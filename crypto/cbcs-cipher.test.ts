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

  // Many chains in one call go through AES in lock-step (crypto/cbcs-chain-encryptor.ts), the longest ones'
  // tails through CBC: these layouts make it take none, some and all of the steps, with a chain continued
  // across calls at each cut.
  const many = new Uint8Array(16 * 400).map((_, i) => (i * 131 + (i >> 7)) & 0xff);
  const layouts: Array<[string, (b: number) => boolean, number[]]> = [
    ["400 one-block chains", () => true, [0, 400]],
    ["chains of 1 to 9 blocks", (b) => b % 10 < 2 || b % 7 === 0, [0, 133, 250, 400]],
    ["one long chain among 60 one-block chains", (b) => b < 60 || b === 100, [0, 400]],
    [
      "one long chain among 60 one-block chains, cut inside it",
      (b) => b < 60 || b === 100,
      [0, 75, 399, 400],
    ],
    ["a call that only continues the chain before it", (b) => b === 0 || b === 50, [0, 20, 40, 400]],
    ["chains of 30 blocks, some calls starting mid-chain", (b) => b % 30 === 0, [0, 45, 46, 200, 400]],
  ];
  for (const [name, restartsAt, cuts] of layouts) {
    test(`cbcsTransform() encrypts as CBC per chain and decrypts back: ${name}`, () => {
      const restarts = [...Array(many.length / 16).keys()].filter(restartsAt);
      const data = many.slice();
      const enc = cbcsTransform(createSecretKey(KEY), IV, "encrypt");
      const dec = cbcsTransform(createSecretKey(KEY), IV, "decrypt");
      const calls = cuts.slice(1).map((to, i) => {
        const from = cuts[i]!;
        return {
          blocks: data.subarray(16 * from, 16 * to),
          restarts: restarts.filter((b) => b >= from && b < to).map((b) => b - from),
        };
      });
      for (const c of calls) enc(c.blocks, c.restarts);
      expect(data).toEqual(new Uint8Array(reference(many, restarts)));
      for (const c of calls) dec(c.blocks, c.restarts);
      expect(data).toEqual(many);
    });
  }

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
