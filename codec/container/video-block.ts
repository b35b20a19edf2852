/** @module A block of demuxed video elementary stream, with the runs of container units that carried it. */

/** Numbers per run in VideoBlock.runs. */
export const RUN_FIELDS = 4;
const INITIAL_RUNS = 256;

/**
 * ES bytes back to back in `bytes[0, length)`, and the runs of equal container units that carried them, in
 * order: run r is `runs[4r + 3]` units of the demuxer's unit length, the first at file offset `runs[4r + 1]`,
 * each carrying `runs[4r + 2]` ES bytes, the first unit's at file offset `runs[4r]` (each later unit's one unit
 * length further). The TS kernel writes into `bytes` directly and adds runs; the JavaScript demux appends.
 */
export class VideoBlock {
  length = 0;
  runs = new Float64Array(RUN_FIELDS * INITIAL_RUNS);
  runCount = 0;
  /** A Buffer view of the chunk append() last copied from, made once per chunk: Buffer#copy is a plain memcpy. */
  #source: Uint8Array | undefined;
  #sourceBuffer: Buffer | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /** Bytes that still fit. */
  get room(): number {
    return this.bytes.length - this.length;
  }

  /** Copies `source[start, end)`, which sits at file offset `fileOffset` in the unit at `unitOffset`. */
  append(source: Uint8Array, start: number, end: number, fileOffset: number, unitOffset: number): void {
    if (source !== this.#source) {
      this.#source = source;
      this.#sourceBuffer = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    }
    const n = (this.#sourceBuffer as Buffer).copy(this.bytes, this.length, start, end);
    this.addRun(fileOffset, unitOffset, n, 1);
  }

  /** Records a run whose `length * count` ES bytes were written at `bytes[this.length]` on. */
  addRun(fileOffset: number, unitOffset: number, length: number, count: number): void {
    if (RUN_FIELDS * (this.runCount + 1) > this.runs.length) {
      const grown = new Float64Array(this.runs.length * 2);
      grown.set(this.runs);
      this.runs = grown;
    }
    const i = RUN_FIELDS * this.runCount++;
    this.runs[i] = fileOffset;
    this.runs[i + 1] = unitOffset;
    this.runs[i + 2] = length;
    this.runs[i + 3] = count;
    this.length += length * count;
  }

  /** Empties the block and forgets the last source chunk (no view of a pushed chunk outlives the push). */
  clear(): void {
    this.length = 0;
    this.runCount = 0;
    this.#source = undefined;
    this.#sourceBuffer = undefined;
  }
}
