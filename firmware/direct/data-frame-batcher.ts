/** @module Coalesces payload pieces of any size into full DATA frames (1 MiB) so per-frame costs stay small. */
import { MAX_DATA_BYTES } from "./direct-frame.ts";
import type { DataMessage } from "./direct-message.ts";

/**
 * The buffer is reused between frames: send() encodes (and so copies) the message before it resolves, and
 * write() awaits it before filling the buffer again.
 */
export class DataFrameBatcher {
  readonly #buf = new Uint8Array(MAX_DATA_BYTES);
  #fill = 0;
  /** Payload bytes handed to send() so far. */
  sent = 0;

  readonly #send: (m: DataMessage) => Promise<void>;
  readonly #clear: boolean;
  readonly #onFlush: ((sent: number) => void) | undefined;
  constructor(send: (m: DataMessage) => Promise<void>, clear: boolean, onFlush?: (sent: number) => void) {
    this.#send = send;
    this.#clear = clear;
    this.#onFlush = onFlush;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.byteLength) {
      const k = Math.min(MAX_DATA_BYTES - this.#fill, bytes.byteLength - at);
      this.#buf.set(bytes.subarray(at, at + k), this.#fill);
      this.#fill += k;
      at += k;
      if (this.#fill === MAX_DATA_BYTES) await this.flush();
    }
  }

  /** Sends what is buffered as one (short) frame; nothing when empty. */
  async flush(): Promise<void> {
    if (this.#fill === 0) return;
    await this.#send({ type: "data", bytes: this.#buf.subarray(0, this.#fill), clear: this.#clear });
    this.sent += this.#fill;
    this.#fill = 0;
    this.#onFlush?.(this.sent);
  }
}
