/** @module Rebuilds one split recording from its two parts as they arrive from two channels at once. */
import type { SplitPartKind } from "../../codec/split/split-format.ts";
import { SplitMerger } from "../../codec/split/split-merger.ts";
import { HeapPacer, PACE_BYTES, steppedCollections } from "../../runtime/heap-pacer.ts";
import type { IncomingFile } from "./incoming-file.ts";

/**
 * How far one part may run ahead of what the merger can use before its feeder stops pulling (backpressure): one
 * DATA frame. The rest waits in the sender's socket and the kernel, outside the recorder's resident set (issue 14).
 */
const MAX_LEAD_BYTES = 1024 * 1024;

/**
 * Each part is fed from its own async source (the direct channel's DATA frames, or a relay download). A feeder
 * that is ahead waits, so it stops reading its socket and the sender's side slows down: memory stays near
 * MAX_LEAD_BYTES however large the recording is. The merged bytes go to the incoming file in order.
 */
export class SplitAssembly {
  readonly merger: SplitMerger;
  readonly #out: IncomingFile;
  /**
   * Collections paced by the bytes whose memory was not freed by hand only: chunks fed without `release` (a
   * caller that cannot free them) and those `release` did not free (a clear frame viewing a shared socket chunk,
   * a cbcs decoder's own blocks). The relay part is fed with `release` too (relayPayload's opened records, and its
   * decoder frees the download's chunks), so a sealed split runs no collection here at all (was 18 full and 54
   * young per GiB: docs/benchmarks.md, "Transfer CPU round 4"). A freed chunk's memory is back already, so counting it ran a
   * collection per 2 MiB of the recording that found little to free (~35% of the receiver's CPU). The same step
   * and stepping as IncomingFile's own pacer, which a split's file leaves off (`paced: false`), so a split whose
   * parts both come through the node (the relay fallback) collects as before; a 1 MiB step cost that route 24%
   * more CPU for 2 MiB less peak.
   */
  readonly #pacer: HeapPacer;
  readonly #fed = new Set<SplitPartKind>();
  readonly #done = new Set<SplitPartKind>();
  #wakers: Array<() => void> = [];
  #failed: unknown;
  #finishedOk = false;
  readonly #finished: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;

  /**
   * `resume`: the file already holds the original's first `position` bytes, hashed (a resumed send). `pacing`
   * replaces the pacer's step and collection (for tests).
   */
  constructor(
    out: IncomingFile,
    resume?: ConstructorParameters<typeof SplitMerger>[0],
    pacing: { everyBytes?: number; collect?: () => void } = {},
  ) {
    this.#pacer = new HeapPacer(pacing.everyBytes ?? PACE_BYTES / 4, pacing.collect ?? steppedCollections());
    this.merger = new SplitMerger(resume);
    this.#out = out;
    this.#finished = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#finished.catch(() => {});
  }

  /** True once a feeder for the part is attached. */
  has(part: SplitPartKind): boolean {
    return this.#fed.has(part);
  }

  /** Resolves when both parts are in, merged, length and SHA-256 verified (merger.finish()); rejects on failure. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Hex SHA-256 of the merged recording, once finished: merger.finish() hashed every byte it emitted and checked it. */
  get sha256(): string {
    const h = this.merger.header;
    if (!this.#finishedOk || h === undefined)
      throw new RangeError("Cannot give the merged SHA-256: the merge is not finished");
    return Buffer.from(h.sha256).toString("hex");
  }

  /**
   * Pulls the part from source until it ends; feeding a part twice is an error. `release`: called with each chunk
   * once the merger holds no view of it and every write of its bytes is done (DirectConnection.releaseData), so
   * its memory can go back before the next collection; it returns whether it did (true), else the bytes are paced.
   */
  async feed(
    part: SplitPartKind,
    source: AsyncIterable<Uint8Array>,
    o: { release?: (chunk: Uint8Array) => unknown } = {},
  ): Promise<void> {
    if (this.#fed.has(part)) throw new RangeError(`Cannot feed the ${part} part twice`);
    this.#fed.add(part);
    // Chunks whose bytes the merger may still hold, each with the part's body length once it was pushed.
    const held: Array<{ chunk: Uint8Array; end: number }> = [];
    const release = o.release;
    try {
      for await (const chunk of source) {
        if (this.#failed !== undefined) throw this.#failed;
        // Queue every view of this push before awaiting anything: the other feeder may push meanwhile, and its
        // bytes come later in the original, so they must not get between these in the file.
        let written: Promise<void> | undefined;
        for (const v of this.merger.push(part, chunk)) written = this.#out.write(v);
        if (release) held.push({ chunk, end: this.merger.receivedOf(part) });
        else this.#pacer.moved(chunk.byteLength);
        await written;
        this.#wake();
        while (
          this.#failed === undefined &&
          this.merger.buffered > MAX_LEAD_BYTES &&
          this.merger.needs() !== part &&
          !this.#done.has(this.merger.needs() ?? part)
        ) {
          await new Promise<void>((resolve) => this.#wakers.push(resolve));
        }
        if (release) {
          const emitted = this.merger.emittedOf(part);
          let k = 0;
          while (k < held.length && held[k]!.end <= emitted) k++;
          if (k > 0) {
            // Every view of these chunks has been emitted, but the other feeder may have queued writes of some
            // that are not done yet: release after every write queued so far.
            const dead = held.splice(0, k);
            void this.#out.written().then(() => {
              for (const d of dead) if (release(d.chunk) !== true) this.#pacer.moved(d.chunk.byteLength);
            });
          }
        }
      }
      this.#done.add(part);
      this.#wake();
      if (this.#done.size === 2) {
        this.merger.finish();
        this.#finishedOk = true;
        this.#resolve();
      }
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  /** Stops both feeders with err (the other channel failed, the session was ended). */
  fail(err: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = err;
    this.#reject(err);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#wakers.splice(0)) w();
  }
}
