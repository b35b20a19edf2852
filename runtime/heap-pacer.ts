/** @module HeapPacer: a full collection (bun:jsc gcAndSweep) after every few MiB a transfer moves (sender, receiver or node), so the chunk buffers it drops are freed before the resident set grows with the recording. */
import { edenGC, gcAndSweep } from "bun:jsc";
import { releaseBuffer } from "./release-buffer.ts";

/** Bytes moved between two collections: a few times the largest buffer a transfer step holds (4 MiB reads). */
export const PACE_BYTES = 8 * 1024 * 1024;

/**
 * A transfer allocates a fresh buffer or two per MiB (frames, sealed records, merged views) and drops each one
 * at once. JavaScriptCore frees them only when a collection finds them dead, and it schedules collections by its
 * own heap-growth heuristics, which let the resident set grow to hundreds of MiB during a long send. So a pacer
 * collects every `everyBytes`; runtime/release-buffer.ts frees the buffers it can name before that.
 *
 * The collection is `gcAndSweep()` from `bun:jsc`: a synchronous full mark and sweep. Full, because a dropped
 * buffer has usually survived an earlier collection while it was in flight, so a young-generation collection
 * (`edenGC()`) does not free it; swept at once, because `fullGC()` (the same mark, swept lazily) left each
 * recorder's peak 3-8 MiB higher. It is what `Bun.gc(true)` runs, without that call's extras (Bun 1.4.5 also
 * trims mimalloc, handing free pages back to the kernel, and releases WeakRef targets): 15-38 ms of CPU per call
 * against ~0.5 ms in a micro-bench, and ~30-40 % of each recorder's CPU per GiB at this pace. `Bun.gc(false)`
 * only asks JavaScriptCore for a collection it runs when and as it chooses, which left the peaks 30-50 MiB
 * higher. Measured in the transfer bench: docs/benchmarks.md, "Collection pacing".
 */
export function collectTransferGarbage(): void {
  gcAndSweep();
}

/** A recorder's steps between two full collections (steppedCollections). */
export const FULL_EVERY = 4;

/**
 * What the receiver's pacer runs at each step: a young collection (`edenGC()`) at most steps and a full one
 * (collectTransferGarbage, 8-15 ms here) at every `fullEvery`-th. The full collections were ~55% of the receiver's
 * CPU at one per 2 MiB. Since the direct channel frees its large buffers itself (socket chunks, sealed frames,
 * opened plaintexts: runtime/release-buffer.ts), what is left between steps is mostly young garbage, which a young
 * collection frees; a buffer that lived through a collection in flight waits for the next full one. Measured in
 * the transfer bench (docs/benchmarks.md, "Transfer CPU"): the same peak RSS for less CPU per GiB. Not on the
 * sender (whose split pass now steps 8 MiB of relay records between full collections, the records being freed
 * by hand: "Transfer CPU round 4"), nor on the node, whose 96 MiB budget has no room. `young` and `full` are for
 * tests.
 */
export function steppedCollections(
  o: { fullEvery?: number; young?: () => void; full?: () => void } = {},
): () => void {
  const fullEvery = o.fullEvery ?? FULL_EVERY;
  if (!Number.isInteger(fullEvery) || fullEvery < 1)
    throw new RangeError(`Cannot step collections: fullEvery ${fullEvery} is not a positive integer`);
  const young = o.young ?? edenGC;
  const full = o.full ?? collectTransferGarbage;
  let step = 0;
  return () => {
    step = (step + 1) % fullEvery;
    if (step === 0) full();
    else young();
  };
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

  /**
   * Frees a dead chunk that the transfer owns outright (releaseBuffer); one it cannot free (a partial view of a
   * larger buffer) counts towards the next collection instead.
   */
  release(chunk: Uint8Array): void {
    if (!releaseBuffer(chunk)) this.moved(chunk.byteLength);
  }

  /** The chunks of `source`, counted as they pass. */
  async *paced(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.moved(chunk.byteLength);
      yield chunk;
    }
  }
}
