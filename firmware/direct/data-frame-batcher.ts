/** @module Coalesces payload pieces of any size into full DATA frames (1 MiB) so per-frame costs stay small. */
import { MAX_DATA_BYTES } from "./direct-frame.ts";
import { type DataMessage, lendTypeRoom } from "./direct-message.ts";

/**
 * The buffer is reused between frames: send() seals (and so copies) the message before it resolves, and
 * write() awaits it before filling the buffer again. Its first byte is the frame's type byte (lendTypeRoom), so a
 * sealed frame's plaintext is this buffer, not a copy of it.
 */
export class DataFrameBatcher {
  readonly #buf = new Uint8Array(1 + MAX_DATA_BYTES);
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
      this.#buf.set(bytes.subarray(at, at + k), 1 + this.#fill);
      this.#fill += k;
      at += k;
      if (this.#fill === MAX_DATA_BYTES) await this.flush();
    }
  }

  /** Sends what is buffered as one (short) frame; nothing when empty. */
  async flush(): Promise<void> {
    if (this.#fill === 0) return;
    const bytes = lendTypeRoom(this.#buf.subarray(1, 1 + this.#fill));
    await this.#send({ type: "data", bytes, clear: this.#clear });
    this.sent += this.#fill;
    this.#fill = 0;
    this.#onFlush?.(this.sent);
  }
}
