/** @module LentChunk: the one chunk that a stream body lent its consumer last, freed when the consumer pulls again. */
import type { HeapPacer } from "./heap-pacer.ts";
import { releaseBuffer } from "./release-buffer.ts";

/**
 * Bun's fetch (a request body) and Bun's server (a response body) copy each chunk into their own socket buffer as
 * they take it, and pull again only once they have. So the chunk a body enqueued last is free to go at the next
 * pull, or when the stream ends, instead of at the next full collection. The body must own each lent chunk
 * outright (see releaseBuffer). With a pacer, a chunk that cannot be freed counts towards its next collection;
 * without one, the caller already counts those bytes.
 */
export class LentChunk {
  #chunk: Uint8Array | undefined;

  constructor(readonly pacer?: HeapPacer) {}

  /** Records `chunk` as lent; the one lent before must have been released. */
  lend(chunk: Uint8Array): void {
    this.#chunk = chunk;
  }

  /** Frees the chunk lent last, if any; safe to call again. */
  release(): void {
    const chunk = this.#chunk;
    this.#chunk = undefined;
    if (chunk !== undefined) this.discard(chunk);
  }

  /** Frees a chunk that the body owns and will not lend (skipped, or still queued when the stream ended). */
  discard(chunk: Uint8Array): void {
    if (this.pacer) this.pacer.release(chunk);
    else releaseBuffer(chunk);
  }
}
