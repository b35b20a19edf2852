/** @module `pvrlink merge DIR --out FILE`: rebuilds a recording from DIR/protected and DIR/direct, verified by SHA-256. */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Command, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { CodecError } from "../codec/codec-error.ts";
import type { SplitPartKind } from "../codec/split/split-format.ts";
import { SplitMerger } from "../codec/split/split-merger.ts";
import { BufferedWriter } from "../firmware/files/buffered-writer.ts";
import { openInput, READ_CHUNK_BYTES } from "../firmware/files/recording-file.ts";
import { DIRECT_FILE, PROTECTED_FILE } from "./split-command.ts";

const HELP = `Usage: pvrlink merge DIR --out FILE

Rebuilds the original recording from DIR/protected and DIR/direct (written by \`pvrlink split\`), checking
both headers against each other, the length, and the original's SHA-256. FILE appears only when every check
passed: the bytes go to a temporary file beside it, renamed into place at the end; on any error FILE is left
as it was.

Options:
  --out FILE  where to write the rebuilt recording (required)
  -h, --help  show this help

Exit codes: 0 merged and verified, 1 missing, damaged or mismatched parts (code ERR_SPLIT_*), 2 bad usage.`;

export const command: Command = {
  summary: "rebuild a recording from its protected and direct parts",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { out: { type: "string", short: "o" } });
    if (positionals.length !== 1)
      throw new UsageError(`Cannot merge: expected one DIR, got ${positionals.length} arguments`);
    if (values.out === undefined || values.out === "")
      throw new UsageError("Cannot merge: --out FILE is required");
    await mergeDir(positionals[0]!, values.out);
    return 0;
  },
};

/** Reads one part in fresh chunks (the merger keeps views until it emits them). */
class PartSource {
  #position = 0;
  constructor(readonly handle: FileHandle) {}
  async next(): Promise<Uint8Array | undefined> {
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.#position);
    this.#position += bytesRead;
    return bytesRead === 0 ? undefined : buffer.subarray(0, bytesRead);
  }
}

/** Pulls from whichever part the merger needs next, so memory stays at about one chunk per part. */
export async function mergeDir(dir: string, outPath: string): Promise<void> {
  await using p = await openInput(join(dir, PROTECTED_FILE));
  await using d = await openInput(join(dir, DIRECT_FILE));
  const sources: Record<SplitPartKind, PartSource> = {
    protected: new PartSource(p),
    direct: new PartSource(d),
  };
  const temp = join(dirname(outPath), `.${basename(outPath)}.tmp-${process.pid}`);
  let done = false;
  try {
    let out: FileHandle;
    try {
      out = await open(temp, "w");
    } catch (err) {
      throw new InputError(`Cannot write ${outPath}: ${(err as Error).message}`, "ERR_OUTPUT", {
        cause: err,
      });
    }
    await using _out = out;
    const writer = new BufferedWriter(out);
    const merger = new SplitMerger();
    try {
      for (let want = merger.needs(); want !== undefined; want = merger.needs()) {
        const chunk = await sources[want].next();
        if (chunk === undefined) break; // finish() names the part that ended early
        for (const v of merger.push(want, chunk)) await writer.write(v);
      }
      // Bytes after a complete body are damage too: one more read of each part must find the end.
      for (const part of ["protected", "direct"] as const) {
        const extra = await sources[part].next();
        if (extra !== undefined) merger.push(part, extra);
      }
      merger.finish();
    } catch (err) {
      if (err instanceof CodecError)
        throw new InputError(`Cannot merge ${dir}: ${err.message}`, err.code, { cause: err });
      throw err;
    }
    await writer.flush();
    await out.sync();
    await rename(temp, outPath).catch((err: Error) => {
      throw new InputError(`Cannot write ${outPath}: ${err.message}`, "ERR_OUTPUT", { cause: err });
    });
    done = true;
  } catch (err) {
    throw asInputError(err, `Cannot merge ${dir} into ${outPath}`);
  } finally {
    if (!done) await rm(temp, { force: true });
  }
}

/** A failed read or write (EIO, ENOSPC, ...) is bad input for the CLI: one line with its code, exit 1. */
function asInputError(err: unknown, what: string): unknown {
  if (err instanceof InputError || !(err instanceof Error) || !("syscall" in err)) return err;
  return new InputError(`${what}: ${err.message}`, "ERR_IO", { cause: err });
}
