/** @module HeapPacer: a collection after every few MiB a transfer moves (sender, receiver or node), so the chunk buffers it drops are freed before the heap grows with the recording. */

/** Bytes moved between two collections: a few times the largest buffer a transfer step holds (4 MiB reads). */
export const PACE_BYTES = 8 * 1024 * 1024;

/**
 * A transfer allocates a fresh buffer or two per MiB (frames, sealed records, merged views) and drops each one
 * at once. JavaScriptCore frees them only when a collection runs, and it schedules collections by its own heap
 * growth heuristics, which let the resident set grow to hundreds of MiB during a long send. A young-generation
 * collection every PACE_BYTES (well under a millisecond on this heap) keeps the peak flat at any recording size.
 */
export class HeapPacer {
  #since = 0;

  /** `collect`: what runs at each step (a full collection; a test counts calls instead). */
  constructor(
    readonly everyBytes = PACE_BYTES,
    readonly collect: () => void = () => Bun.gc(true),
  ) {
    if (!(everyBytes > 0)) throw new RangeError(`Cannot pace collections every ${everyBytes} bytes`);
  }

  /** Counts `bytes` moved; collects once every `everyBytes`. */
  moved(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.everyBytes) return;
    this.#since = 0;
    this.collect();
  }

  /** The chunks of `source`, counted as they pass. */
  async *paced(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.moved(chunk.byteLength);
      yield chunk;
    }
  }
}
