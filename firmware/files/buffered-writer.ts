/** @module Collects many small views (a TS split yields 188-byte pieces) into large writes to a file handle. */
import type { FileHandle } from "node:fs/promises";

/** Default bytes gathered before one write. */
export const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Buffers writes; pieces at least as large as the buffer go straight through without a copy. */
export class BufferedWriter {
  readonly #handle: FileHandle;
  readonly #buffer: Uint8Array;
  #used = 0;
  /** Bytes accepted so far. */
  written = 0;

  constructor(handle: FileHandle, bufferBytes = WRITE_BUFFER_BYTES) {
    this.#handle = handle;
    this.#buffer = new Uint8Array(bufferBytes);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.written += bytes.length;
    if (this.#used + bytes.length > this.#buffer.length) await this.flush();
    if (bytes.length >= this.#buffer.length) {
      await writeAll(this.#handle, bytes);
      return;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    await writeAll(this.#handle, this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}
