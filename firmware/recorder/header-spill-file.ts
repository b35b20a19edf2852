/** @module headerSpillFile(): the temp file a receiver keeps a version 3/4 pattern header in while the body passes, so the header is not held in memory (issue 14). */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { randomToken } from "../../crypto/random-token.ts";

/**
 * A HeaderSpill in a new temp file in `dir` (the receive's incoming directory: the same disk as the recording),
 * unlinked as soon as it is open so nothing is left behind, even if the daemon dies; close() frees it. Synchronous
 * I/O as PlanSpillFiles': the header arrives in DATA frames of up to 1 MiB and is read back in 64 KiB windows
 * and 1 MiB slice blocks, which the page cache serves.
 */
export function headerSpillFile(dir: string): HeaderSpill {
  const path = join(dir, `pvrlink-header-${randomToken()}`);
  const fd = openSync(path, "wx+", 0o600);
  unlinkSync(path);
  let length = 0;
  let closed = false;
  const open = (what: string): number => {
    if (closed) throw new TypeError(`Cannot ${what} the pattern header's spill file: it is closed`);
    return fd;
  };
  return {
    write(bytes) {
      const f = open("write");
      for (let done = 0; done < bytes.length; )
        done += writeSync(f, bytes, done, bytes.length - done, length + done);
      length += bytes.length;
    },
    read(position, into) {
      const f = open("read");
      for (let done = 0; done < into.length; ) {
        const n = readSync(f, into, done, into.length - done, position + done);
        if (n === 0)
          throw new RangeError(
            `Cannot read the pattern header's spill file at ${position + done}: it ends at ${length}`,
          );
        done += n;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
