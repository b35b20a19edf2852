/** @module One streamed PUT of a relay stream to the node, fed by push(), skipping what the node already holds. */
import { createHash, type Hash } from "node:crypto";
import type { ControlClient } from "../../protocol/control-client.ts";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { LentChunk } from "../../runtime/lent-chunk.ts";

/** Encoded bytes queued for the PUT body above which the producer waits: a few records keep the socket busy. */
const QUEUE_HIGH_WATER = 2 * 1024 * 1024;

/**
 * One PUT attempt fed by push(): bytes before `offset` (what the node already holds) are hashed and counted but
 * not sent, so a resumed attempt re-encodes the stream from its start and sends only what the node lost. When
 * the request fails, push() stops waiting and drops bytes; finish() reports how far the node got.
 */
export class UploadAttempt {
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #seen = 0;
  #closed = false;
  #settled = false;
  #pullWaiter: (() => void) | undefined;
  #pushWaiters: Array<() => void> = [];
  readonly #response: Promise<{ received: number } | Error>;
  readonly #hash: Hash = createHash("sha256");
  readonly #pacer: HeapPacer | undefined;
  readonly #owned: boolean;
  /** The chunk the body handed to fetch last: fetch has taken it by the time it pulls again. */
  readonly #lent: LentChunk;

  /**
   * `paced: false`: the caller already counts these bytes toward its own collections (split-pass.ts counts every
   * relay piece before it is encoded), so this attempt does not collect for them a second time. `owned`: every
   * pushed chunk is this attempt's alone (fresh records from a RelayStreamEncoder), so its memory is given back
   * (releaseBuffer) once fetch has taken it, instead of at the next full collection.
   */
  constructor(
    client: ControlClient,
    readonly transferId: string,
    readonly offset: number,
    o: { paced?: boolean; owned?: boolean } = {},
  ) {
    this.#pacer = o.paced === false ? undefined : new HeapPacer();
    this.#owned = o.owned === true;
    this.#lent = new LentChunk(this.#pacer);
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // Bun's fetch copies each body chunk into its HTTP thread's buffer as it reads it (the JS buffer cannot
          // cross to that thread), and pulls again only once it has: the chunk lent before is free to go.
          this.#lent.release();
          while (this.#queue.length === 0 && !this.#closed) {
            await new Promise<void>((r) => {
              this.#pullWaiter = r;
            });
          }
          const next = this.#queue.shift();
          if (next === undefined) {
            controller.close();
            return;
          }
          if (this.#owned) this.#lent.lend(next);
          this.#queued -= next.byteLength;
          this.#wakePushers();
          controller.enqueue(next);
        },
        cancel: () => this.#settle(),
      },
      { highWaterMark: 0 },
    );
    this.#response = client.uploadData(transferId, offset, body).then(
      (r) => {
        this.#settle();
        return r;
      },
      (e: unknown) => {
        this.#settle();
        return e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  /** True once the request has ended (answered, failed or cancelled); later bytes are hashed and dropped. */
  get settled(): boolean {
    return this.#settled;
  }

  #settle(): void {
    this.#settled = true;
    // Whatever fetch was lent is done with once the request has ended; queued chunks were never lent.
    this.#lent.release();
    if (this.#owned) for (const q of this.#queue) this.#lent.discard(q);
    this.#queue.length = 0;
    this.#queued = 0;
    this.#wakePushers();
    this.#pullWaiter?.();
  }

  #wakePushers(): void {
    for (const w of this.#pushWaiters.splice(0)) w();
  }

  /** Adds encoded bytes in stream order; waits while the body queue is full. */
  async push(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    // An owned chunk is paced when it is freed (or found not freeable), the others as they come.
    if (!this.#owned) this.#pacer?.moved(bytes.byteLength);
    const start = this.#seen;
    this.#seen += bytes.byteLength;
    if (this.#settled || this.#seen <= this.offset) {
      if (this.#owned) this.#lent.discard(bytes);
      return;
    }
    const send = start >= this.offset ? bytes : bytes.subarray(this.offset - start);
    this.#queue.push(send);
    this.#queued += send.byteLength;
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
    while (this.#queued > QUEUE_HIGH_WATER && !this.#settled) {
      await new Promise<void>((r) => this.#pushWaiters.push(r));
    }
  }

  /** Encoded bytes pushed so far (sent or skipped). */
  get bytesSeen(): number {
    return this.#seen;
  }

  /** Ends the body and waits for the node's answer: its received count, or the error that ended the request. */
  async finish(): Promise<{ received: number } | Error> {
    this.#closed = true;
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
    return this.#response;
  }

  /** Hex SHA-256 of every byte pushed; call after the last push. */
  digest(): string {
    return this.#hash.digest("hex");
  }
}
