/** @module Bit reader over H.264 RBSP data: emulation prevention removal, u(n), ue(v), se(v) (ITU-T H.264 7.2, 9.1). */

/** emulation_prevention_three_byte after two zero bytes, ITU-T H.264 7.4.1. */
const EMULATION_PREVENTION_BYTE = 0x03;
/** No ue(v) syntax element in the headers read here needs more than 31 leading zero bits. */
const MAX_LEADING_ZEROS = 31;

/**
 * Reads bits from a NAL unit payload bytes[pos, end), dropping emulation prevention bytes as it goes.
 * Every read returns undefined once the data ends, so a cut-off header is detected, never misread.
 */
export class RbspBits {
  private byte = 0;
  private bit = 8;
  private zeros = 0;
  constructor(
    private readonly b: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  private nextByte(): number | undefined {
    if (this.pos >= this.end) return undefined;
    let v = this.b[this.pos++]!;
    if (this.zeros >= 2 && v === EMULATION_PREVENTION_BYTE) {
      this.zeros = 0;
      if (this.pos >= this.end) return undefined;
      v = this.b[this.pos++]!;
    }
    this.zeros = v === 0 ? this.zeros + 1 : 0;
    return v;
  }

  readBit(): number | undefined {
    if (this.bit === 8) {
      const v = this.nextByte();
      if (v === undefined) return undefined;
      this.byte = v;
      this.bit = 0;
    }
    return (this.byte >> (7 - this.bit++)) & 1;
  }

  /** u(n) for n <= 32. */
  readBits(n: number): number | undefined {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const bit = this.readBit();
      if (bit === undefined) return undefined;
      v = v * 2 + bit;
    }
    return v;
  }

  /** ue(v), ITU-T H.264 9.1. */
  readUe(): number | undefined {
    let zeros = 0;
    for (;;) {
      const bit = this.readBit();
      if (bit === undefined) return undefined;
      if (bit === 1) break;
      if (++zeros > MAX_LEADING_ZEROS) return undefined;
    }
    const rest = this.readBits(zeros);
    return rest === undefined ? undefined : 2 ** zeros - 1 + rest;
  }

  /** se(v), ITU-T H.264 9.1.1. */
  readSe(): number | undefined {
    const k = this.readUe();
    if (k === undefined) return undefined;
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
