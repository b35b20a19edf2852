/** @module For tests: seeded, deterministic damage to recordings (the kinds a recorder's disk or a cut file produce). */

import { randomBytes } from "./seeded-random.ts";

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The named damages the integration tests run on every recording. */
export const DAMAGES: Record<string, (b: Uint8Array, rand: (n: number) => number) => Uint8Array> = {
  truncated: (b) => b.slice(0, Math.floor(b.length * 0.61)),
  overwritten: (b, rand) => {
    const c = b.slice();
    for (let i = 0; i < 24; i++) c[rand(c.length)] = rand(256);
    return c;
  },
  "garbage prepended": (b, rand) => join(randomBytes(rand, 1001), b),
  "mid-GOP start": (b) => b.slice(Math.floor(b.length * 0.37)),
  "zeroed run": (b, rand) => {
    const c = b.slice();
    const at = rand(c.length);
    c.fill(0, at, at + 500);
    return c;
  },
};

/** One to three random mutations: the fuzz test's generator. */
export function mutate(b: Uint8Array, rand: (n: number) => number): Uint8Array {
  let c = b;
  const count = 1 + rand(3);
  for (let m = 0; m < count; m++) {
    const at = rand(c.length + 1);
    const len = 1 + rand(2000);
    switch (rand(9)) {
      case 0:
        c = c.slice(0, at);
        break;
      case 1:
        c = c.slice(at);
        break;
      case 2: {
        c = c.slice();
        for (let i = 0; i < 1 + rand(32); i++) c[rand(c.length)] = rand(256);
        break;
      }
      case 3:
        c = join(c.subarray(0, at), randomBytes(rand, len), c.subarray(at));
        break;
      case 4:
        c = join(c.subarray(0, at), c.subarray(Math.min(c.length, at + len)));
        break;
      case 5:
        c = join(c.subarray(0, at), c.subarray(Math.max(0, at - len), at), c.subarray(at));
        break;
      case 6: {
        // Start codes and sync bytes in odd places: what confuses a resyncing parser most.
        c = c.slice();
        const pattern = rand(2) ? [0, 0, 1, [0x00, 0xb3, 0xb8, 0xb7, 0xb5, 0xe0, 0xba][rand(7)]!] : [0x47];
        if (c.length < pattern.length) break;
        for (let i = 0; i < 1 + rand(16); i++) c.set(pattern, rand(c.length - pattern.length + 1));
        break;
      }
      case 7:
        c = c.slice();
        c.fill(rand(2) ? 0 : 0xff, at, at + len);
        break;
      default:
        c = c.slice(rand(c.length), rand(c.length + 1) + 1);
    }
  }
  return c;
}
