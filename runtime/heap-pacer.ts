/** @module HeapPacer: a full, lazily swept collection after every few MiB a transfer moves (sender, receiver or node), so the chunk buffers it drops are freed before the resident set grows with the recording. */
import { fullGC } from "bun:jsc";

/** Bytes moved between two collections: a few times the largest buffer a transfer step holds (4 MiB reads). */
export const PACE_BYTES = 8 * 1024 * 1024;

/**
 * A transfer allocates a fresh buffer or two per MiB (frames, sealed records, merged views) and drops each one
 * at once. JavaScriptCore frees them only when a collection finds them dead, and it schedules collections by its
 * own heap-growth heuristics, which let the resident set grow to hundreds of MiB during a long send. So a pacer
 * collects every `everyBytes`; runtime/release-buffer.ts frees the buffers it can name before that.
 *
 * The collection is `fullGC()` from `bun:jsc`: a synchronous full mark (a dropped buffer has often survived an
 * earlier collection while it was in flight, so a young-generation collection alone does not free it) whose
 * sweep runs lazily as the heap allocates again. Measured in the transfer bench (docs/benchmarks.md, "Collection
 * pacing"), it costs about 1 ms where `Bun.gc(true)` cost ~15 ms: Bun.gc(true) also sweeps the whole heap
 * before returning, releases WeakRef targets and trims mimalloc, and at this pace that was 40 % of each
 * recorder's CPU per GiB. `edenGC()` and `Bun.gc(false)` (a collection JavaScriptCore runs when it chooses)
 * left the peaks 30-70 MiB higher.
 */
export function collectTransferGarbage(): void {
  fullGC();
}

export class HeapPacer {
  #since = 0;

  /** `collect`: what runs at each step (collectTransferGarbage; a test counts calls instead). */
  constructor(
    readonly everyBytes = PACE_BYTES,
    readonly collect: () => void = collectTransferGarbage,
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
