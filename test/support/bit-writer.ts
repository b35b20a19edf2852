/** @module MSB-first bit writer: builds MPEG video headers for tests and fixture rewriting. */

export class BitWriter {
  readonly #bits: number[] = [];

  /** Appends `value` as an unsigned field of `n` bits (n <= 32). Throws RangeError when it does not fit. */
  write(value: number, n: number): this {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** n) {
      throw new RangeError(`Cannot write ${value} in ${n} bits`);
    }
    for (let i = n - 1; i >= 0; i--) this.#bits.push(Math.floor(value / 2 ** i) & 1);
    return this;
  }

  flag(on: boolean): this {
    return this.write(on ? 1 : 0, 1);
  }

  /** Appends the byte-aligned start code 00 00 01 `code`; throws RangeError when not byte-aligned. */
  startCode(code: number): this {
    if (this.#bits.length % 8 !== 0) throw new RangeError("Cannot write a start code off a byte boundary");
    return this.write(0, 16).write(1, 8).write(code, 8);
  }

  get bitLength(): number {
    return this.#bits.length;
  }

  /** The bits so far, zero-padded to a whole byte (ISO/IEC 13818-2 next_start_code() stuffing). */
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.#bits.length / 8));
    this.#bits.forEach((bit, i) => {
      if (bit) out[i >> 3] = (out[i >> 3] as number) | (1 << (7 - (i & 7)));
    });
    return out;
  }
}

/** Bytes of a header built by `body` after the start code `code`. */
export function buildHeader(code: number, body: (w: BitWriter) => void): Uint8Array {
  const w = new BitWriter().startCode(code);
  body(w);
  return w.bytes();
}
