/** @module A QUIC bidirectional stream seen as a node Duplex, so the direct channel's framing runs over it unchanged. */
import { Duplex } from "node:stream";

/** The part of a node:quic QuicStream this adapter uses (the module is experimental; see quic-transport.ts). */
export interface QuicStreamLike extends AsyncIterable<Uint8Array[]> {
  readonly writer: {
    readonly desiredSize: number | null;
    writeSync(chunk: Uint8Array): boolean;
    endSync(): void;
    fail(reason?: unknown): void;
  };
  destroy(reason?: unknown): void;
}

/**
 * Largest slice handed to the QUIC writer at once. Its buffer accepts a write only while it has room
 * (writeSync returns false otherwise), so a 1 MiB frame goes in slices no larger than the buffer's window.
 */
const WRITE_SLICE = 64 * 1024;
/**
 * node:quic in Bun 1.4.5 has no drain event for its writer (node:stream/iter's ondrain() is absent), so a full
 * buffer is polled at this interval; 1 ms keeps a saturated link busy at a negligible CPU cost.
 */
const FULL_POLL_MS = 1;

export class QuicStreamSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Set by the side that punched the path: a LAN address or a NAT mapping. */
  via: "lan" | "punched" | undefined;
  readonly #stream: QuicStreamLike;
  #pumping = false;
  #resumeRead: (() => void) | undefined;

  constructor(stream: QuicStreamLike, remote: { address: string; port: number }) {
    super({ allowHalfOpen: true });
    this.#stream = stream;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }

  /**
   * Called when the QUIC connection under the stream is gone (idle timeout on a dead path, peer reset). Its
   * stream does not always say so itself in Bun 1.4.5 (a blocked writer just stays full), so the owner of the
   * session passes it on: a stream still open both ways then fails, which ends the direct channel with an error.
   */
  sessionGone(reason: string): void {
    if (this.destroyed) return;
    // Unowned (a losing candidate path nobody reads): nothing to tell, and an unheard 'error' would crash.
    if ((this.readableEnded && this.writableFinished) || this.listenerCount("error") === 0) this.destroy();
    else this.destroy(new Error(`QUIC connection lost: ${reason}`));
  }

  /** TCP's Nagle switch has no QUIC meaning; present so TCP-shaped callers need no branch. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  override _read(): void {
    const resume = this.#resumeRead;
    this.#resumeRead = undefined;
    resume?.();
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for await (const batch of this.#stream) {
        for (const chunk of batch) {
          // Copied: the stream may reuse its buffers once the iterator moves on.
          if (!this.push(Buffer.from(chunk))) {
            await new Promise<void>((resolve) => {
              this.#resumeRead = resolve;
            });
          }
          if (this.destroyed) return;
        }
      }
      this.push(null);
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    void this.#writeAll(chunk).then(
      () => done(),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async #writeAll(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength; at += WRITE_SLICE) {
      // Copied: callers (the clear data path) reuse their buffers after write() returns.
      const slice = Buffer.from(chunk.subarray(at, at + WRITE_SLICE));
      while (!this.#stream.writer.writeSync(slice)) {
        if (this.destroyed) throw new Error("Cannot write: QUIC stream destroyed");
        await Bun.sleep(FULL_POLL_MS);
      }
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      this.#stream.writer.endSync();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const resume = this.#resumeRead;
    this.#resumeRead = undefined;
    resume?.();
    try {
      this.#stream.destroy(err ?? undefined);
    } catch {
      // Already gone with its session.
    }
    done(err);
  }
}
