/** @module RBSP bit handling for the H.264 attacker: emulation prevention removed and restored, a bit writer, and Annex B NAL framing. */

/** emulation_prevention_three_byte after two zero bytes, ITU-T H.264 7.4.1. */
const EPB = 0x03;
/** Annex B start code prefix, ITU-T H.264 B.1.1. */
const START_CODE = [0, 0, 0, 1] as const;

/** bytes[from, to) without emulation prevention bytes (a NAL's RBSP), and for each RBSP byte its index in `bytes`. */
export function unescapeRbsp(
  bytes: Uint8Array,
  from: number,
  to: number,
): { rbsp: Uint8Array; at: Int32Array } {
  const rbsp = new Uint8Array(to - from);
  const at = new Int32Array(to - from);
  let n = 0;
  let zeros = 0;
  for (let i = from; i < to; i++) {
    const v = bytes[i]!;
    if (zeros >= 2 && v === EPB) {
      zeros = 0;
      continue;
    }
    zeros = v === 0 ? zeros + 1 : 0;
    at[n] = i;
    rbsp[n++] = v;
  }
  return { rbsp: rbsp.subarray(0, n), at: at.subarray(0, n) };
}

/** Appends bits MSB first; `bytes()` gives the RBSP written so far (a partial last byte zero-filled). */
export class BitWriter {
  #buf = new Uint8Array(256);
  #bits = 0;

  get length(): number {
    return this.#bits;
  }

  bit(b: number): void {
    const i = this.#bits >> 3;
    if (i >= this.#buf.length) {
      const grown = new Uint8Array(this.#buf.length * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    if (b) this.#buf[i]! |= 0x80 >> (this.#bits & 7);
    this.#bits++;
  }

  /** ue(v), ITU-T H.264 9.1. */
  ue(v: number): void {
    const x = v + 1;
    const len = 31 - Math.clz32(x);
    for (let i = 0; i < len; i++) this.bit(0);
    for (let i = len; i >= 0; i--) this.bit((x >> i) & 1);
  }

  /** Bits [fromBit, toBit) of `src`, MSB first. */
  copy(src: Uint8Array, fromBit: number, toBit: number): void {
    for (let p = fromBit; p < toBit; p++) this.bit((src[p >> 3]! >> (7 - (p & 7))) & 1);
  }

  /** rbsp_trailing_bits(): the stop bit and zero bits to the byte boundary, 7.3.2.11. */
  trailing(): void {
    this.bit(1);
    while (this.#bits & 7) this.bit(0);
  }

  bytes(): Uint8Array {
    return this.#buf.slice(0, (this.#bits + 7) >> 3);
  }
}

/** One Annex B NAL unit from an RBSP (NAL header byte included): start code, emulation prevention inserted. */
export function annexBNal(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [...START_CODE];
  let zeros = 0;
  for (const v of rbsp) {
    if (zeros >= 2 && v <= EPB) {
      out.push(EPB);
      zeros = 0;
    }
    out.push(v);
    zeros = v === 0 ? zeros + 1 : 0;
  }
  return new Uint8Array(out);
}

/** ue(v) read at bit `p` of `b`: its value and the bit after it; undefined past `end` bits. */
export function readUeAt(b: Uint8Array, p: number, end: number): { value: number; next: number } | undefined {
  let zeros = 0;
  while (p < end && ((b[p >> 3]! >> (7 - (p & 7))) & 1) === 0) {
    zeros++;
    p++;
  }
  if (p + zeros >= end || zeros > 31) return undefined;
  p++;
  let v = 0;
  for (let i = 0; i < zeros; i++, p++) v = v * 2 + ((b[p >> 3]! >> (7 - (p & 7))) & 1);
  return { value: 2 ** zeros - 1 + v, next: p };
}
