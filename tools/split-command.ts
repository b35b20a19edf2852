/** @module `pvrlink split FILE --out DIR`: writes DIR/protected (I-picture bytes) and DIR/direct (the rest). */
import { createHash } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Command, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { CodecError } from "../codec/codec-error.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { encodeSplitHeaders } from "../codec/split/split-format.ts";
import { BufferedWriter } from "../firmware/files/buffered-writer.ts";
import { indexFile, openInput, readChunks } from "../firmware/files/recording-file.ts";

const HELP = `Usage: pvrlink split FILE --out DIR

Splits a recording into two part files: DIR/protected holds every byte that carries I-picture (key frame) data
(for PS and TS the whole PES or TS packets), DIR/direct holds the rest. Each part starts with a header naming
the part, the container, the original length, the protected ranges with serials and the original's SHA-256
(format: pvrlink help split-format). \`pvrlink merge DIR --out FILE\` rebuilds the original byte for byte.
DIR is created if missing; existing DIR/protected and DIR/direct are replaced only once both are complete.

Options:
  --out DIR   directory for the two parts (required)
  -h, --help  show this help

Exit codes: 0 split, 1 unreadable or changing input, unwritable DIR, 2 bad usage.`;

/** Names of the two part files; scripts read them, so they are fixed. */
export const PROTECTED_FILE = "protected";
export const DIRECT_FILE = "direct";

export const command: Command = {
  summary: "split a recording into its protected and direct parts",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { out: { type: "string", short: "o" } });
    if (positionals.length !== 1)
      throw new UsageError(`Cannot split: expected one FILE, got ${positionals.length} arguments`);
    if (values.out === undefined || values.out === "")
      throw new UsageError("Cannot split: --out DIR is required");
    await splitFile(positionals[0]!, values.out);
    return 0;
  },
};

/**
 * Two passes, because each header carries the range table and the hash before its body: pass 1 indexes and
 * hashes, pass 2 routes the bytes and hashes again, so a file that changed in between is refused rather than
 * split into parts that no longer merge.
 */
export async function splitFile(path: string, outDir: string): Promise<void> {
  await using input = await openInput(path);
  const { index, length, sha256 } = await indexFile(input, { hash: true });
  let headers: ReturnType<typeof encodeSplitHeaders>;
  let router: RangeRouter;
  try {
    const plan = {
      container: index.container,
      originalLength: length,
      sha256: sha256!,
      ranges: index.protectedRanges,
    };
    headers = encodeSplitHeaders(plan);
    router = new RangeRouter(index.protectedRanges, length);
  } catch (err) {
    // The indexer's table is checked before use; a bad one is a codec bug, reported with its code, not written.
    if (err instanceof CodecError)
      throw new InputError(`Cannot split ${path}: ${err.message}`, err.code, { cause: err });
    throw err;
  }

  try {
    await mkdir(outDir, { recursive: true });
  } catch (err) {
    throw new InputError(`Cannot create ${outDir}: ${(err as Error).message}`, "ERR_OUTPUT", { cause: err });
  }
  const suffix = `.tmp-${process.pid}`;
  const temps = {
    protected: join(outDir, `.${PROTECTED_FILE}${suffix}`),
    direct: join(outDir, `.${DIRECT_FILE}${suffix}`),
  };
  let done = false;
  try {
    await using p = await openOutput(temps.protected);
    await using d = await openOutput(temps.direct);
    const pw = new BufferedWriter(p);
    const dw = new BufferedWriter(d);
    await pw.write(headers.protected);
    await dw.write(headers.direct);
    const again = createHash("sha256");
    try {
      for await (const chunk of readChunks(input, { reuse: true })) {
        again.update(chunk);
        const routed = router.push(chunk);
        for (const v of routed.protected) await pw.write(v);
        for (const v of routed.direct) await dw.write(v);
        // Every view of this chunk is written or copied before the next read may reuse its buffer.
      }
      router.finish();
    } catch (err) {
      if (err instanceof CodecError)
        throw new InputError(`Cannot split ${path}: ${err.message}`, "ERR_SPLIT_SOURCE_CHANGED", {
          cause: err,
        });
      throw err;
    }
    if (!again.digest().equals(sha256!)) {
      throw new InputError(`Cannot split ${path}: it changed while being split`, "ERR_SPLIT_SOURCE_CHANGED");
    }
    await pw.flush();
    await dw.flush();
    await p.sync();
    await d.sync();
    for (const [temp, name] of [
      [temps.protected, PROTECTED_FILE],
      [temps.direct, DIRECT_FILE],
    ] as const) {
      await rename(temp, join(outDir, name)).catch((err: Error) => {
        throw new InputError(`Cannot write ${join(outDir, name)}: ${err.message}`, "ERR_OUTPUT", {
          cause: err,
        });
      });
    }
    done = true;
  } catch (err) {
    // A failed read or write (EIO, ENOSPC, ...) is bad input for the CLI: one line with its code, exit 1.
    if (err instanceof Error && !(err instanceof InputError) && "syscall" in err) {
      throw new InputError(`Cannot split ${path} into ${outDir}: ${err.message}`, "ERR_IO", { cause: err });
    }
    throw err;
  } finally {
    if (!done) await Promise.all([rm(temps.protected, { force: true }), rm(temps.direct, { force: true })]);
  }
}

async function openOutput(path: string) {
  try {
    return await open(path, "w");
  } catch (err) {
    throw new InputError(`Cannot write ${path}: ${(err as Error).message}`, "ERR_OUTPUT");
  }
}
