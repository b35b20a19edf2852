/** @module CBC encryption of many short independent chains at once (CENC 'cbcs' with a constant IV): block k of every chain in one AES-ECB call, the long tails one CBC call each. */
import { type Cipheriv, createCipheriv, type KeyObject } from "node:crypto";
import { releaseCipherOutput } from "./release-cipher-output.ts";

const B = 16;

// CBC (NIST SP 800-38A 6.2) is C_j = AES(P_j ⊕ C_j−1), C_−1 = IV. With a constant IV every chain (a slice's
// encrypted blocks, ISO/IEC 23001-7 10.4) is independent of the others, so step k of all chains can go through
// AES together: one ECB call (AES of each block alone, SP 800-38A 6.1) over P_k ⊕ C_k−1 of every chain still
// that long. A picture's chains are short (320×240 H.264: half are one block, none over ~50), and each
// node:crypto update() costs a call and a fresh output buffer: ~5,300 CBC calls per 32 MiB looped clip were
// ~10 ms of the cipher's 15–23 ms. Chains longer than the step count chosen per call finish in one CBC call
// each from where the steps left them: with L chains, steps s cost s + (chains longer than s) calls, and s
// is chosen to minimise that (the SD 60 MiB TS's chains run to ~165 blocks, so few steps pay there).

/**
 * Encrypts chains of blocks in place. One instance per key and IV; `encrypt()` takes the blocks of one call and
 * the indices where chains restart from the IV; a call's first block, unless it restarts, continues the last
 * call's last block.
 */
export class CbcsChainEncryptor {
  readonly #ecb: Cipheriv;
  readonly #cbc: Cipheriv;
  readonly #iv: Int32Array;
  /** The last ciphertext block of the last call (what a continuing first block chains from). */
  readonly #last: Int32Array;
  /** The last ciphertext block the CBC context produced: it chains its next input from this. */
  readonly #context: Int32Array;
  /** Reused per call: chain starts and lengths (blocks), chains ordered by length (longest first), length histogram. */
  #start = new Int32Array(256);
  #length = new Int32Array(256);
  #order = new Int32Array(256);
  #count = new Int32Array(64);
  #input = new Uint8Array(256 * B);
  #inputWords = new DataView(this.#input.buffer);

  constructor(key: KeyObject, iv: Uint8Array) {
    this.#ecb = createCipheriv("aes-128-ecb", key, null).setAutoPadding(false);
    this.#cbc = createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
    const view = new DataView(iv.buffer, iv.byteOffset, B);
    this.#iv = Int32Array.of(
      view.getInt32(0, true),
      view.getInt32(4, true),
      view.getInt32(8, true),
      view.getInt32(12, true),
    );
    this.#last = this.#iv.slice();
    this.#context = this.#iv.slice();
  }

  /** Encrypts `blocks` (whole blocks; checked by the caller) in place; `restarts` ascending block indices. */
  encrypt(blocks: Uint8Array, restarts: readonly number[]): void {
    const n = blocks.byteLength / B;
    if (n === 0) return;
    const words = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
    // Chain 0 continues the last call unless block 0 restarts.
    const continuing = restarts.length === 0 || restarts[0] !== 0 ? 1 : 0;
    const chains = restarts.length + continuing;
    if (this.#start.length < chains) {
      this.#start = new Int32Array(2 * chains);
      this.#length = new Int32Array(2 * chains);
      this.#order = new Int32Array(2 * chains);
    }
    const start = this.#start;
    const length = this.#length;
    let longest = 0;
    for (let c = 0; c < chains; c++) {
      const from = c < continuing ? 0 : restarts[c - continuing]!;
      const to = c + 1 - continuing < restarts.length ? restarts[c + 1 - continuing]! : n;
      start[c] = from;
      length[c] = to - from;
      if (to - from > longest) longest = to - from;
    }
    // count[k]: chains longer than k, from a histogram of lengths.
    if (this.#count.length < longest + 2) this.#count = new Int32Array(2 * (longest + 2));
    const count = this.#count;
    count.fill(0, 0, longest + 2);
    for (let c = 0; c < chains; c++) count[length[c]!]!++;
    // Chains ordered by length, longest first (a counting sort): at step k the active ones are a prefix.
    const order = this.#order;
    let at = 0;
    for (let l = longest; l > 0; l--) {
      const m = count[l]!;
      count[l] = at;
      at += m;
    }
    for (let c = 0; c < chains; c++) order[count[length[c]!]!++] = c;
    // Now count[l] is the number of chains of length >= l: chains longer than k are count[k + 1].
    let steps = 0;
    let best = count[1]!;
    for (let s = 1; s <= longest; s++) {
      const cost = s + (s + 1 <= longest ? count[s + 1]! : 0);
      if (cost < best) {
        best = cost;
        steps = s;
      }
    }
    for (let k = 0; k < steps; k++) this.#step(words, k, count[k + 1]!, continuing);
    const tails = steps < longest ? count[steps + 1]! : 0;
    for (let j = 0; j < tails; j++) {
      const c = order[j]!;
      const head = steps > 0 ? undefined : c < continuing ? this.#last : this.#iv;
      this.#tail(blocks, words, { from: start[c]! + steps, to: start[c]! + length[c]!, head });
    }
    const end = blocks.byteLength - B;
    const last = this.#last;
    for (let w = 0; w < 4; w++) last[w] = words.getInt32(end + 4 * w, true);
  }

  /** Step k of the `active` longest chains: one ECB call over P_k ⊕ C_k−1 of each. */
  #step(words: DataView, k: number, active: number, continuing: number): void {
    if (this.#input.length < active * B) {
      this.#input = new Uint8Array(2 * active * B);
      this.#inputWords = new DataView(this.#input.buffer);
    }
    const input = this.#inputWords;
    const order = this.#order;
    const start = this.#start;
    const iv = this.#iv;
    const last = this.#last;
    for (let j = 0; j < active; j++) {
      const c = order[j]!;
      const at = (start[c]! + k) * B;
      const into = j * B;
      if (k > 0) {
        input.setInt32(into, words.getInt32(at, true) ^ words.getInt32(at - B, true), true);
        input.setInt32(into + 4, words.getInt32(at + 4, true) ^ words.getInt32(at - B + 4, true), true);
        input.setInt32(into + 8, words.getInt32(at + 8, true) ^ words.getInt32(at - B + 8, true), true);
        input.setInt32(into + 12, words.getInt32(at + 12, true) ^ words.getInt32(at - B + 12, true), true);
      } else {
        const prev = c < continuing ? last : iv;
        input.setInt32(into, words.getInt32(at, true) ^ prev[0]!, true);
        input.setInt32(into + 4, words.getInt32(at + 4, true) ^ prev[1]!, true);
        input.setInt32(into + 8, words.getInt32(at + 8, true) ^ prev[2]!, true);
        input.setInt32(into + 12, words.getInt32(at + 12, true) ^ prev[3]!, true);
      }
    }
    const out = this.#ecb.update(this.#input.subarray(0, active * B));
    const o = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let j = 0; j < active; j++) {
      const at = (start[order[j]!]! + k) * B;
      const from = j * B;
      words.setInt32(at, o.getInt32(from, true), true);
      words.setInt32(at + 4, o.getInt32(from + 4, true), true);
      words.setInt32(at + 8, o.getInt32(from + 8, true), true);
      words.setInt32(at + 12, o.getInt32(from + 12, true), true);
    }
    releaseCipherOutput(out);
  }

  /**
   * Blocks [from, to) of one chain through the CBC context: the context chains from its own last block X, so
   * the first goes in as P ⊕ C_prev ⊕ X and comes out AES(P ⊕ C_prev). C_prev is the block before `from`, or
   * `head` (the IV, or the last call's last block) when `from` is the chain's first block.
   */
  #tail(
    blocks: Uint8Array,
    words: DataView,
    t: { from: number; to: number; head: Int32Array | undefined },
  ): void {
    const first = t.from * B;
    const x = this.#context;
    const head = t.head;
    for (let w = 0; w < 4; w++) {
      const prev = head === undefined ? words.getInt32(first - B + 4 * w, true) : head[w]!;
      words.setInt32(first + 4 * w, words.getInt32(first + 4 * w, true) ^ prev ^ x[w]!, true);
    }
    const out = this.#cbc.update(blocks.subarray(first, t.to * B));
    blocks.set(out, first);
    releaseCipherOutput(out);
    const end = t.to * B - B;
    for (let w = 0; w < 4; w++) x[w] = words.getInt32(end + 4 * w, true);
  }
}
