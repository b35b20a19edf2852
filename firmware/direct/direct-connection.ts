/** @module One authenticated direct-channel connection: sealed, ordered frames both ways with backpressure. */

import type { Duplex } from "node:stream";
import type { DirectPath } from "../../protocol/api-types.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import { applicationMessages } from "./application-messages.ts";
import { ConnectionDeadlines } from "./connection-deadlines.ts";
import { DataFrameBatcher } from "./data-frame-batcher.ts";
import { dataFrames } from "./data-frames.ts";
import {
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_HIGH_WATER,
  type DirectConnectionOptions,
  SEND_HIGH_WATER,
} from "./direct-connection-options.ts";
import { DirectChannelError } from "./direct-error.ts";
import { FrameReader, hasAadRoom, isClearFrame } from "./direct-frame.ts";
import { type DirectMessage, decodeMessage, type WireMessage } from "./direct-message.ts";
import { FrameCipher } from "./frame-cipher.ts";
import { ReceivedDataOwners } from "./received-data-owners.ts";
import { sealMessageFrame } from "./seal-message-frame.ts";

export class DirectConnection implements AsyncDisposable {
  readonly sessionId: string;
  readonly role: "caller" | "callee";
  readonly remote: string;
  /** The authenticated peer's device id, set by the handshake. */
  peerId = "";
  /** Which path carries this channel (issue 15), set by whoever opened it; accounting reports it. */
  path: DirectPath | undefined;
  /**
   * The forward-secret key for the relay streams an OFFER on this connection names, set by the handshake when
   * both sides sent an ephemeral key (crypto/ephemeral-agreement.ts); otherwise the session's static relay key
   * applies.
   */
  relayKey: CryptoKey | undefined;
  /** The callee's ACCEPTED said it answers RESUME (docs/protocol.md 12.6): a resumed send may ask it. */
  peerResumes = false;
  /** The pattern header versions the callee's ACCEPTED listed; an older callee lists none and reads version 1. */
  peerPatternVersions: readonly number[] = [1];
  /** DATA payload bytes sent and received (what accounting reports as bytesDirect). */
  bytesSent = 0;
  bytesReceived = 0;
  /** Bytes on the wire, framing and tags included. */
  wireBytesSent = 0;
  wireBytesReceived = 0;
  /** True while the socket is not read because the application has not consumed enough (backpressure). */
  get readPaused(): boolean {
    return this.#paused;
  }

  /** Resolves when the socket has closed, with the error that closed it, if any. */
  readonly closed: Promise<DirectChannelError | undefined>;

  readonly #socket: Duplex;
  readonly #cipher: FrameCipher;
  readonly #reader = new FrameReader();
  readonly #frameTimeoutMs: number;
  readonly #highWater: number;
  #openChain: Promise<void> = Promise.resolve();
  #sendChain: Promise<void> = Promise.resolve();
  readonly #queue: Array<{ msg: WireMessage; size: number }> = [];
  #queuedBytes = 0;
  #inflightBytes = 0;
  #paused = false;
  #waiter: (() => void) | undefined;
  #drainWaiters: Array<() => void> = [];
  #error: DirectChannelError | undefined;
  #peerCloseReason: string | undefined;
  #localClosed = false;
  readonly #deadlines = new ConnectionDeadlines();
  readonly #ownedData = new ReceivedDataOwners();

  constructor(o: DirectConnectionOptions) {
    this.#socket = o.socket;
    this.sessionId = o.sessionId;
    this.role = o.role;
    this.remote = o.remote;
    this.#cipher = new FrameCipher(o.key, o.sessionId, o.role);
    this.#frameTimeoutMs = o.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.#highWater = o.highWaterBytes ?? DEFAULT_HIGH_WATER;
    this.closed = new Promise((resolve) => {
      this.#socket.once("close", () => {
        this.#deadlines.clearAll();
        // A close without the peer's CLOSE frame is a truncated stream; the queue is drained first.
        void this.#openChain.then(() => {
          if (!this.#error && this.#peerCloseReason === undefined && !this.#localClosed) {
            const inFrame = this.#reader.pending > 0;
            this.fail(
              new DirectChannelError(
                "ERR_DIRECT_TRUNCATED",
                inFrame ? "Connection ended inside a frame" : "Connection ended without CLOSE",
              ),
            );
          }
          this.#wake();
          for (const w of this.#drainWaiters.splice(0)) w();
          resolve(this.#error);
        });
      });
    });
    this.#socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    this.#socket.on("error", (err) => {
      this.fail(
        new DirectChannelError("ERR_DIRECT_TRUNCATED", `Connection failed: ${(err as Error).message}`),
      );
    });
    this.#socket.on("drain", () => {
      for (const w of this.#drainWaiters.splice(0)) w();
    });
    for (const c of o.initial ?? []) this.#onData(c);
    this.#socket.resume();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#error) return;
    this.wireBytesReceived += chunk.byteLength;
    let frames: Uint8Array[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.fail(err as DirectChannelError);
      return;
    }
    for (const f of frames) {
      this.#inflightBytes += f.byteLength;
      this.#openChain = this.#openChain.then(() => this.#openFrame(f));
    }
    this.#armFrameTimer();
    this.#applyBackpressure();
  }

  /** Opens frames strictly in arrival order: the chunk index is the frame counter, so order is authenticated. */
  async #openFrame(sealed: Uint8Array): Promise<void> {
    if (this.#error) return;
    const clear = isClearFrame(sealed);
    let opened: { index: bigint; plain: Uint8Array };
    try {
      opened = await this.#cipher.open(sealed, clear, hasAadRoom(sealed));
    } catch (err) {
      this.fail(err as DirectChannelError);
      return;
    }
    const { index, plain } = opened;
    this.#inflightBytes -= sealed.byteLength;
    // A sealed frame is dead once opened (its plaintext is a new buffer): its memory goes back now.
    if (!clear) releaseBuffer(sealed);
    let msg: WireMessage;
    try {
      msg = decodeMessage(plain);
    } catch (err) {
      this.fail(err as DirectChannelError);
      return;
    }
    if (this.#peerCloseReason !== undefined) {
      this.fail(new DirectChannelError("ERR_DIRECT_PROTOCOL", "Frame after CLOSE"));
      return;
    }
    // A clear frame may carry only clear DATA, and clear DATA only a clear frame: everything else stays sealed.
    if (clear !== (msg.type === "data" && msg.clear === true)) {
      this.fail(
        new DirectChannelError(
          "ERR_DIRECT_PROTOCOL",
          `Frame ${index}: clear framing does not match its type`,
        ),
      );
      return;
    }
    if (msg.type === "close") {
      this.#peerCloseReason = msg.reason;
      // Answer an orderly close in kind, so the peer's close() completes; its reason is what our reader sees.
      if (!this.#localClosed) void this.close("done").catch(() => {});
    } else {
      if (msg.type === "data") {
        this.bytesReceived += msg.bytes.byteLength;
        // A clear frame copied out of several socket chunks has a buffer of its own (with AAD room).
        this.#ownedData.record(
          msg.bytes,
          !clear ? plain : hasAadRoom(sealed) ? new Uint8Array(sealed.buffer) : undefined,
        );
      }
      this.#queue.push({ msg, size: plain.byteLength });
      this.#queuedBytes += plain.byteLength;
    }
    this.#wake();
  }

  #applyBackpressure(): void {
    const held = this.#queuedBytes + this.#inflightBytes;
    if (!this.#paused && held > this.#highWater) {
      this.#paused = true;
      this.#socket.pause();
      this.#armFrameTimer();
    } else if (this.#paused && held <= this.#highWater / 2) {
      this.#paused = false;
      this.#socket.resume();
      this.#armFrameTimer();
    }
  }

  /** Starts the per-frame deadline when a frame begins; a paused socket is our doing and does not count. */
  #armFrameTimer(): void {
    if (this.#reader.pending === 0 || this.#paused || this.#error) {
      this.#deadlines.clear("frame");
      return;
    }
    if (this.#deadlines.has("frame")) return;
    this.#deadlines.set("frame", this.#frameTimeoutMs, () => {
      this.fail(
        new DirectChannelError("ERR_DIRECT_TIMEOUT", `Frame not completed within ${this.#frameTimeoutMs} ms`),
      );
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Closes the socket at once with err; later reads throw it. Logged by the owner, never sent to the peer. */
  fail(err: DirectChannelError): void {
    if (this.#error) return;
    this.#error = err;
    this.#deadlines.clearAll();
    this.#socket.destroy();
    this.#wake();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** The next message in order, or undefined after the peer's CLOSE "done". Throws the connection's error. */
  async receive(): Promise<WireMessage | undefined> {
    for (;;) {
      const head = this.#queue.shift();
      if (head) {
        this.#queuedBytes -= head.size;
        this.#applyBackpressure();
        return head.msg;
      }
      if (this.#error) throw this.#error;
      if (this.#peerCloseReason !== undefined) {
        if (this.#peerCloseReason === "done") return undefined;
        throw new DirectChannelError(
          "ERR_DIRECT_CLOSED",
          `Peer closed: ${this.#peerCloseReason}`,
          this.#peerCloseReason,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /**
   * Frees the memory of a received DATA payload (`bytes`, as receive() gave it) once the caller is done with it
   * and holds no view of it, instead of at the next collection (ReceivedDataOwners says which payloads own
   * theirs). Returns whether the memory went back (a caller pacing collections counts only the bytes that did not).
   */
  releaseData(bytes: Uint8Array): boolean {
    return this.#ownedData.release(bytes);
  }

  /** Receives the handshake's next message within timeoutMs (ERR_DIRECT_TIMEOUT otherwise). */
  async receiveHandshake(timeoutMs: number): Promise<WireMessage | undefined> {
    this.#deadlines.set("handshake", timeoutMs, () => {
      this.fail(
        new DirectChannelError("ERR_DIRECT_TIMEOUT", `Handshake not completed within ${timeoutMs} ms`),
      );
    });
    try {
      return await this.receive();
    } finally {
      this.#deadlines.clear("handshake");
    }
  }

  /** The application's messages as an async iterator; it ends at the peer's orderly close and throws otherwise. */
  messages(): AsyncGenerator<DirectMessage, void, undefined> {
    return applicationMessages(this);
  }

  /** Seals and writes one message in order; waits while the socket's send buffer is full. */
  send(m: WireMessage): Promise<void> {
    const p = this.#sendChain.then(() => this.#sendNow(m));
    this.#sendChain = p.catch(() => {});
    return p;
  }

  /** After the handshake: the forward-secret key for one direction (firmware/direct/direct-dial.ts, direct-listener.ts). */
  rekey(direction: "send" | "receive", key: CryptoKey): void {
    this.#cipher.rekey(direction, key);
  }

  async #sendNow(m: WireMessage): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#localClosed && m.type !== "close") {
      throw new DirectChannelError("ERR_DIRECT_CLOSED", "Cannot send: connection closed");
    }
    const frame = await sealMessageFrame(this.#cipher, m);
    if (this.#error) throw this.#error;
    // Once the socket has handed the frame on (the write's callback), nothing reads its buffer again: its
    // memory goes back now, not at the next collection.
    this.#socket.write(frame.bytes, () => releaseBuffer(frame.owned));
    this.wireBytesSent += frame.wireBytes;
    if (m.type === "data") this.bytesSent += m.bytes.byteLength;
    while (this.#socket.writableLength > SEND_HIGH_WATER && !this.#error && !this.#socket.destroyed) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
    if (this.#error) throw this.#error;
  }

  /** Sends bytes as DATA frames of at most 1 MiB each; clear: as clear, authenticated frames (TYPE_DATA_CLEAR). */
  async sendData(bytes: Uint8Array, opts: { clear?: boolean } = {}): Promise<void> {
    const clear = opts.clear === true;
    for (const m of dataFrames(bytes, clear)) await this.send(m);
  }

  /**
   * Sends a byte stream (e.g. Bun.file(path).stream()) as DATA frames, coalescing small chunks up to 1 MiB so
   * per-frame costs stay small; onProgress gets the running total. Returns the bytes sent.
   */
  async sendStream(
    source: AsyncIterable<Uint8Array>,
    onProgress?: (sent: number) => void,
    opts: { clear?: boolean } = {},
  ): Promise<number> {
    const batcher = new DataFrameBatcher((m) => this.send(m), opts.clear === true, onProgress);
    for await (const chunk of source) await batcher.write(chunk);
    await batcher.flush();
    return batcher.sent;
  }

  /** Closes the channel when expiresAt (unix ms) passes, telling the peer "expired"; call again after an extension. */
  setExpiry(expiresAt: number): void {
    this.#deadlines.clear("expiry");
    if (this.#error) return;
    this.#deadlines.set("expiry", expiresAt - Date.now(), () => {
      void this.abort("expired", "ERR_DIRECT_EXPIRED");
    });
  }

  /** Orderly end: sends CLOSE {reason}, half-closes, and waits for the socket to close. */
  async close(reason = "done"): Promise<void> {
    if (this.#localClosed || this.#error) {
      await this.closed;
      return;
    }
    try {
      await this.send({ type: "close", reason });
    } catch {
      // Already failing; closed resolves anyway.
    }
    this.#localClosed = true;
    this.#socket.end();
    await this.closed;
  }

  /** Forced end (lease expired, session ended by operator or peer): tells the peer why, and fails local reads. */
  async abort(
    reason: string,
    code: "ERR_DIRECT_EXPIRED" | "ERR_DIRECT_CLOSED" = "ERR_DIRECT_CLOSED",
  ): Promise<void> {
    if (this.#error) return;
    const err = new DirectChannelError(code, `Channel ended: ${reason}`, reason);
    try {
      await Promise.race([this.send({ type: "close", reason }), Bun.sleep(1000)]);
    } catch {
      // The peer may already be gone.
    }
    this.#localClosed = true;
    this.#error ??= err;
    this.#deadlines.clearAll();
    this.#socket.end();
    this.#wake();
    // Do not wait for a peer that may never answer.
    setTimeout(() => this.#socket.destroy(), 2000).unref?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#error && !this.#localClosed) await this.close();
    else this.#socket.destroy();
  }
}
