/** @module UnlinkedTempFile: a temp file removed from its directory as soon as it is open, read and written whole at positions (the pattern plan's and header's spill files). */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";

/**
 * A new file in `dir`, unlinked once open: nothing is left behind even if the process dies, and the kernel frees
 * its blocks when close() (or the process's end) closes the descriptor. Synchronous I/O: its users are the
 * pattern codec's synchronous block stores and header spills, whose reads the page cache serves.
 */
export class UnlinkedTempFile {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Creates the file (mode 0600, a random name starting `prefix-`) and unlinks it; throws what open() throws. */
  static create(dir: string, prefix: string): UnlinkedTempFile {
    const path = join(dir, `${prefix}-${randomToken()}`);
    const fd = openSync(path, "wx+", 0o600);
    unlinkSync(path);
    return new UnlinkedTempFile(fd);
  }

  /** Writes all of `bytes` at `position`. */
  write(bytes: Uint8Array, position: number): void {
    for (let done = 0; done < bytes.length; )
      done += writeSync(this.#fd, bytes, done, bytes.length - done, position + done);
  }

  /** Fills `into` from `position`; returns how many bytes it read, fewer than `into.length` where the file ends. */
  read(into: Uint8Array, position: number): number {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.#fd, into, done, into.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** Closes (and so frees) the file. */
  close(): void {
    closeSync(this.#fd);
  }
}
