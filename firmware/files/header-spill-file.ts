/** @module headerSpillFile(): the temp file a receiver keeps a version 3/4 pattern header in while the body passes, so the header is not held in memory (issue 14). */
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { UnlinkedTempFile } from "./unlinked-temp-file.ts";

/**
 * A HeaderSpill in a new temp file in `dir` (the receive's incoming directory: the same disk as the recording),
 * unlinked as soon as it is open so nothing is left behind, even if the daemon dies; close() frees it. Synchronous
 * I/O as PlanSpillFiles': the header arrives in DATA frames of up to 1 MiB and is read back in 64 KiB windows
 * and 1 MiB slice blocks, which the page cache serves.
 */
export function headerSpillFile(dir: string): HeaderSpill {
  const file = UnlinkedTempFile.create(dir, "pvrlink-header");
  let length = 0;
  let closed = false;
  const open = (what: string): UnlinkedTempFile => {
    if (closed) throw new TypeError(`Cannot ${what} the pattern header's spill file: it is closed`);
    return file;
  };
  return {
    write(bytes) {
      open("write").write(bytes, length);
      length += bytes.length;
    },
    read(position, into) {
      const done = open("read").read(into, position);
      if (done < into.length)
        throw new RangeError(
          `Cannot read the pattern header's spill file at ${position + done}: it ends at ${length}`,
        );
    },
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}
