/** @module A received recording being written: a temp file in the library's incoming dir, hashed as it grows. */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open, rm } from "node:fs/promises";
import { HeapPacer, PACE_BYTES, steppedCollections } from "../../runtime/heap-pacer.ts";
import { BufferedWriter } from "../files/buffered-writer.ts";

/** How an IncomingFile is opened: see IncomingFile.create. */
export interface IncomingFileOptions {
  digestOf?: () => string;
  paced?: boolean;
}

/**
 * Bytes go to a temp path the library handed out; nothing reaches the library until filing renames it after
 * verification, and discard() removes it on any failure, so a half-written recording is never filed.
 */
export class IncomingFile {
  /** Absent when the caller knows the digest by other means (digestOf), so no byte is hashed twice. */
  #hash: Hash | undefined;
  #digestOf: (() => string) | undefined;
  // Receiving allocates more per MiB than sending (the relay's records; socket chunks, sealed frames and their
  // plaintexts are released by hand), and the receiver is the larger of the two: it collects every 2 MiB, a young
  // collection at most steps and a full one every 8 MiB (steppedCollections).
  // Absent when the caller paces the bytes it knows are not freed by hand (SplitAssembly: only the relay part's).
  #pacer: HeapPacer | undefined = new HeapPacer(PACE_BYTES / 4, steppedCollections());
  #handle: FileHandle | undefined;
  #writer: BufferedWriter | undefined;
  #chain: Promise<void> = Promise.resolve();
  size = 0;
  /** keep() ran: the bytes are the partial store's now, and discard() must not remove them. */
  #kept = false;
  /** Told after each write with the file's length (receive-resume.ts checkpoints a live receive by it). */
  onGrow: ((size: number) => void) | undefined;

  private constructor(readonly path: string) {}

  /**
   * `digestOf`: the hex SHA-256 of everything written, known to the caller once the last byte is in (a split's
   * merger hashes every byte it emits, and checks it): then this file does not hash them a second time.
   * `paced: false`: the caller runs the collections (SplitAssembly), so this file does not count its writes.
   */
  static async create(path: string, o: IncomingFileOptions = {}): Promise<IncomingFile> {
    const f = new IncomingFile(path);
    f.#digestOf = o.digestOf;
    if (o.paced === false) f.#pacer = undefined;
    if (!o.digestOf) f.#hash = createHash("sha256");
    f.#handle = await open(path, "wx", 0o600);
    f.#writer = new BufferedWriter(f.#handle, 1024 * 1024);
    return f;
  }

  /**
   * Continues a kept partial (partial-receives.ts): `path` holds the original's first `held` bytes, and writes
   * append after them. The file's SHA-256 starts from those bytes read back from disk (`hash`, handed to a split's
   * merger instead when `digestOf` is given), so the whole recording is still verified once, end to end.
   */
  static async resume(
    path: string,
    held: number,
    o: IncomingFileOptions = {},
  ): Promise<{ file: IncomingFile; prefix: Hash }> {
    const prefix = await IncomingFile.prefixHash(path, held);
    const f = new IncomingFile(path);
    f.#digestOf = o.digestOf;
    if (o.paced === false) f.#pacer = undefined;
    if (!o.digestOf) f.#hash = prefix.copy();
    f.#handle = await open(path, "a", 0o600);
    f.#writer = new BufferedWriter(f.#handle, 1024 * 1024);
    f.size = held;
    return { file: f, prefix };
  }

  /** SHA-256 state over a file's first `n` bytes. */
  static async prefixHash(path: string, n: number): Promise<Hash> {
    const hash = createHash("sha256");
    const f = await open(path, "r");
    try {
      const buf = new Uint8Array(1024 * 1024);
      for (let at = 0; at < n; ) {
        const { bytesRead } = await f.read(buf, 0, Math.min(buf.length, n - at), at);
        if (bytesRead === 0) throw new RangeError(`Cannot hash ${path}: it ends at byte ${at}, before ${n}`);
        hash.update(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await f.close();
    }
    return hash;
  }

  /** Appends in call order (writes are chained, so concurrent callers cannot interleave). */
  write(bytes: Uint8Array): Promise<void> {
    this.size += bytes.byteLength;
    this.#hash?.update(bytes);
    this.#pacer?.moved(bytes.byteLength);
    const p = this.#chain.then(() => this.#writer!.write(bytes));
    this.#chain = p.catch(() => {});
    this.onGrow?.(this.size);
    return p;
  }

  /** Resolves once every write queued so far has been copied or written (failed ones included). */
  written(): Promise<void> {
    return this.#chain;
  }

  /**
   * Flushes and fsyncs everything written so far, in order with the writes, and gives its length: bytes a
   * checkpoint may count (`after` records them, still in order). The file stays open.
   */
  sync(after?: (size: number) => void): Promise<number> {
    const size = this.size;
    const p = this.#chain.then(async () => {
      await this.#writer!.flush();
      await this.#handle!.sync();
      // In the chain: finish() and keep() wait for it, so nothing they write can come before it.
      after?.(size);
      return size;
    });
    this.#chain = p.then(
      () => {},
      () => {},
    );
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

  /**
   * An interrupted receive that a resumed send may continue: every byte queued so far is written and fsynced,
   * the file closed, and its length returned. Only then may a record count them (offsets after fsync only).
   */
  async keep(): Promise<number> {
    this.#kept = true;
    await this.#chain;
    await this.#writer!.flush();
    await this.#handle!.sync();
    await this.#handle!.close();
    this.#handle = undefined;
    return this.size;
  }

  async discard(): Promise<void> {
    if (this.#kept) return;
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
