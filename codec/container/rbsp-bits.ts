/** @module Bit reader over H.264 RBSP data (ITU-T H.264 7.2, 9.1); like BitReader, a read past the end throws ERR_BITS_EXHAUSTED. */
import { bitsExhausted } from "../bits-exhausted.ts";
import { codecError } from "../codec-error.ts";

/** emulation_prevention_three_byte after two zero bytes, ITU-T H.264 7.4.1. */
const EMULATION_PREVENTION_BYTE = 0x03;
/** No ue(v) syntax element in the headers read here needs more than 31 leading zero bits. */
const MAX_LEADING_ZEROS = 31;

/**
 * Reads bits from a NAL unit payload bytes[pos, end), dropping emulation prevention bytes as it goes.
 * Like BitReader (mpeg-video/bit-reader.ts), a read past the end throws bitsExhausted() (CodecRangeError
 * ERR_BITS_EXHAUSTED), so a cut-off header is detected, never misread; a ue(v) longer than 32 bits throws
 * CodecRangeError ERR_EXP_GOLOMB. Callers translate both into their own result.
 */
export class RbspBits {
  #byte = 0;
  #bit = 8;
  #zeros = 0;
  #b: Uint8Array;
  #pos: number;
  #end: number;

  constructor(b: Uint8Array, pos: number, end: number) {
    this.#b = b;
    this.#pos = pos;
    this.#end = end;
  }

  /** Starts over on bytes[pos, end), as a new reader would: for a caller that reads many headers with one. */
  reset(b: Uint8Array, pos: number, end: number): void {
    this.#b = b;
    this.#pos = pos;
    this.#end = end;
    this.#byte = 0;
    this.#bit = 8;
    this.#zeros = 0;
  }

  #nextByte(): number {
    if (this.#pos >= this.#end) throw bitsExhausted(this.#pos * 8, this.#end * 8);
    let v = this.#b[this.#pos++]!;
    if (this.#zeros >= 2 && v === EMULATION_PREVENTION_BYTE) {
      this.#zeros = 0;
      if (this.#pos >= this.#end) throw bitsExhausted(this.#pos * 8, this.#end * 8);
      v = this.#b[this.#pos++]!;
    }
    this.#zeros = v === 0 ? this.#zeros + 1 : 0;
    return v;
  }

  /**
   * Index in the bytes of the first byte no bit has been read from: where a byte-aligned syntax structure
   * after the bits read so far starts (the byte holding a partly read bit stays before it). Emulation
   * prevention bytes count: this indexes the NAL unit as stored, not its RBSP.
   */
  get bytePosition(): number {
    return this.#pos;
  }

  /** Bits already read of the current byte: 0 when the reader stands on a byte boundary. */
  get bitOffsetInByte(): number {
    return this.#bit === 8 ? 0 : this.#bit;
  }

  readBit(): number {
    if (this.#bit === 8) {
      this.#byte = this.#nextByte();
      this.#bit = 0;
    }
    return (this.#byte >> (7 - this.#bit++)) & 1;
  }

  /**
   * u(n) for n <= 32: the unread bits of a byte at a time, not a readBit() per bit. A slice header is read twice
   * per coded slice on a send in H.264 pattern mode (the picture type, then the data offset): bit by bit that
   * was ~1 µs a slice, 3-4 ms of pass 1 on a 60 MiB TS.
   */
  readBits(n: number): number {
    let v = 0;
    let left = n;
    while (left > 0) {
      if (this.#bit === 8) {
        this.#byte = this.#nextByte();
        this.#bit = 0;
      }
      const unread = 8 - this.#bit;
      const take = left < unread ? left : unread;
      v = v * (1 << take) + ((this.#byte >> (unread - take)) & ((1 << take) - 1));
      this.#bit += take;
      left -= take;
    }
    return v;
  }

  /** ue(v), ITU-T H.264 9.1: the leading zero bits counted a byte at a time (Math.clz32). */
  readUe(): number {
    let zeros = 0;
    for (;;) {
      if (this.#bit === 8) {
        this.#byte = this.#nextByte();
        this.#bit = 0;
      }
      const rest = this.#byte & (0xff >> this.#bit);
      // Zero bits before the first 1 among this byte's unread bits (all of them when there is none).
      const lead = rest === 0 ? 8 - this.#bit : Math.clz32(rest) - 24 - this.#bit;
      zeros += lead;
      if (zeros > MAX_LEADING_ZEROS) {
        throw codecError(
          "ERR_EXP_GOLOMB",
          `Cannot read ue(v): more than ${MAX_LEADING_ZEROS} leading zero bits`,
          this.#pos,
        );
      }
      if (rest === 0) {
        this.#bit = 8;
        continue;
      }
      this.#bit += lead + 1;
      return 2 ** zeros - 1 + this.readBits(zeros);
    }
  }

  /** se(v), ITU-T H.264 9.1.1. */
  readSe(): number {
    const k = this.readUe();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
