/** @module A received recording being written: a temp file in the library's incoming dir, hashed as it grows. */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open, rm } from "node:fs/promises";
import { HeapPacer, PACE_BYTES } from "../../runtime/heap-pacer.ts";
import { BufferedWriter } from "../files/buffered-writer.ts";

/**
 * Bytes go to a temp path the library handed out; nothing reaches the library until filing renames it after
 * verification, and discard() removes it on any failure, so a half-written recording is never filed.
 */
export class IncomingFile {
  /** Absent when the caller knows the digest by other means (digestOf), so no byte is hashed twice. */
  #hash: Hash | undefined;
  #digestOf: (() => string) | undefined;
  // Receiving allocates more per MiB than sending (each frame's plaintext, the relay's records; the socket chunks
  // and sealed frames are released at once), and the receiver is the larger of the two: it collects every 2 MiB.
  readonly #pacer = new HeapPacer(PACE_BYTES / 4);
  #handle: FileHandle | undefined;
  #writer: BufferedWriter | undefined;
  #chain: Promise<void> = Promise.resolve();
  size = 0;

  private constructor(readonly path: string) {}

  /**
   * `digestOf`: the hex SHA-256 of everything written, known to the caller once the last byte is in (a split's
   * merger hashes every byte it emits, and checks it): then this file does not hash them a second time.
   */
  static async create(path: string, o: { digestOf?: () => string } = {}): Promise<IncomingFile> {
    const f = new IncomingFile(path);
    f.#digestOf = o.digestOf;
    if (!o.digestOf) f.#hash = createHash("sha256");
    f.#handle = await open(path, "wx", 0o600);
    f.#writer = new BufferedWriter(f.#handle, 1024 * 1024);
    return f;
  }

  /** Appends in call order (writes are chained, so concurrent callers cannot interleave). */
  write(bytes: Uint8Array): Promise<void> {
    this.size += bytes.byteLength;
    this.#hash?.update(bytes);
    this.#pacer.moved(bytes.byteLength);
    const p = this.#chain.then(() => this.#writer!.write(bytes));
    this.#chain = p.catch(() => {});
    return p;
  }

  /** Flushes, fsyncs and closes; returns the hex SHA-256 of everything written. */
  async finish(): Promise<string> {
    await this.#chain;
    await this.#writer!.flush();
    await this.#handle!.sync();
    await this.#handle!.close();
    this.#handle = undefined;
    return this.#digestOf ? this.#digestOf() : this.#hash!.digest("hex");
  }

  async discard(): Promise<void> {
    try {
      await this.#chain;
    } catch {
      // discarding anyway
    }
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    await rm(this.path, { force: true });
  }
}
