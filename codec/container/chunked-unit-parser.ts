/** @module Carries an incomplete container unit (pack, PES or TS packet) across pushed chunks. */

const EMPTY = new Uint8Array(0);

/**
 * Base for the streaming demuxers. Subclasses parse whole units from a buffer; when a unit straddles two
 * chunks, only the remainder plus at most `maxUnitLength` bytes of the next chunk are copied together, so
 * big chunks are parsed in place and memory stays bounded by a couple of units.
 */
export abstract class ChunkedUnitParser {
  #carry: Uint8Array = EMPTY;
  #carryOffset = 0;
  #pushed = 0;
  #ended = false;

  /** The longest unit; given at least this many bytes, parseUnits must consume something. */
  protected abstract readonly maxUnitLength: number;

  /**
   * Parses the complete units at the start of `buf`, whose first byte is at file offset `fileOffset`, and
   * returns how many bytes it consumed. With `atEnd` there is no more data and everything must be consumed.
   */
  protected abstract parseUnits(buf: Uint8Array, fileOffset: number, atEnd: boolean): number;

  /** Total bytes pushed so far. */
  get bytesSeen(): number {
    return this.#pushed;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.length === 0) return;
    const chunkFileOffset = this.#pushed;
    this.#pushed += chunk.length;
    let pos = 0;
    while (this.#carry.length > 0 && pos < chunk.length) {
      const take = Math.min(chunk.length - pos, this.maxUnitLength);
      const joined = new Uint8Array(this.#carry.length + take);
      joined.set(this.#carry);
      joined.set(chunk.subarray(pos, pos + take), this.#carry.length);
      const consumed = this.parseUnits(joined, this.#carryOffset, false);
      if (consumed >= this.#carry.length) {
        pos += consumed - this.#carry.length;
        this.#carry = EMPTY;
        break;
      }
      this.#carry = joined.slice(consumed);
      this.#carryOffset += consumed;
      pos += take;
    }
    if (this.#carry.length > 0 || pos >= chunk.length) return;
    const consumed = this.parseUnits(chunk.subarray(pos), chunkFileOffset + pos, false);
    pos += consumed;
    if (pos < chunk.length) {
      this.#carry = chunk.slice(pos);
      this.#carryOffset = chunkFileOffset + pos;
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#carry.length > 0) this.parseUnits(this.#carry, this.#carryOffset, true);
    this.#carry = EMPTY;
    this.onEnd();
  }

  /** Called once after the last bytes were parsed. */
  protected onEnd(): void {}
}
