/** @module `library export --protected`: an H.264 MP4 recording written out as a standard CENC 'cbcs' protected MP4 under a fresh key, the key in a 0600 file beside it. */
import { constants, open, rm } from "node:fs/promises";
import { InputError } from "../../cli/command.ts";
import { CodecError } from "../../codec/codec-error.ts";
import { assembleMp4Cbcs, planMp4Cbcs } from "../../codec/container/mp4-cbcs-protection.ts";
import { CbcsPatternCipher } from "../../codec/pattern/cbcs-pattern-cipher.ts";
import { newCbcsFileKey } from "../../crypto/cbcs-file-key.ts";

/** The key file's name beside the protected file. */
export const KEY_FILE_SUFFIX = ".key";
/** Owner read/write only: the key file is the file's only secret. */
const KEY_FILE_MODE = 0o600;

/** What a protected export wrote: the file, its key file and how much of it is encrypted. */
export interface ProtectedExport {
  path: string;
  keyPath: string;
  encryptedBytes: number;
}

/**
 * Writes `source` (an H.264 MP4 in the library) to `target` as a standard cbcs protected MP4 (encv, sinf/schm
 * cbcs, tenc 1:9, senc/saiz/saio: ISO/IEC 23001-7 10.4), which a CENC-aware player decrypts with the key, and
 * writes the key (32 hex digits and a newline, what `ffmpeg -decryption_key` takes) to `target.key`, mode 0600,
 * created exclusively. The key is fresh from the CSPRNG, never the transfer's, and never logged or printed.
 * Neither file is overwritten; on any failure neither is left behind. The whole file is read into memory
 * (planMp4Cbcs walks it in memory). Throws InputError ERR_LIBRARY_EXPORT_PROTECTED for a file that is not a
 * protectable H.264 MP4, ERR_LIBRARY_EXPORT_EXISTS when a target exists.
 */
export async function exportProtected(source: string, target: string): Promise<ProtectedExport> {
  const bytes = await Bun.file(source).bytes();
  const fileKey = newCbcsFileKey();
  let plan: ReturnType<typeof planMp4Cbcs>;
  try {
    plan = planMp4Cbcs(bytes, { keyId: fileKey.keyId, constantIv: fileKey.constantIv });
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new InputError(
      `Cannot export as a protected MP4: ${(err as Error).message}; only H.264 MP4 recordings can be`,
      "ERR_LIBRARY_EXPORT_PROTECTED",
      { cause: err },
    );
  }
  // Encrypted in place: `bytes` is this function's own copy of the file.
  const cipher = new CbcsPatternCipher(plan, bytes.length, fileKey.encrypt);
  const out = cipher.push(bytes);
  cipher.finish();
  if (out.reduce((n, p) => n + p.length, 0) !== bytes.length)
    throw new RangeError("Cannot export as a protected MP4: the cipher held bytes back");
  const file = assembleMp4Cbcs(bytes, plan);
  const keyPath = target + KEY_FILE_SUFFIX;
  const created: string[] = [];
  try {
    await writeExclusive(target, file, 0o644);
    created.push(target);
    await writeExclusive(
      keyPath,
      new TextEncoder().encode(`${Buffer.from(fileKey.key).toString("hex")}\n`),
      KEY_FILE_MODE,
    );
    created.push(keyPath);
  } catch (err) {
    for (const p of created) await rm(p, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new InputError(
        `Cannot export as a protected MP4: ${(err as NodeJS.ErrnoException).path ?? target} exists; remove it or give another DEST`,
        "ERR_LIBRARY_EXPORT_EXISTS",
      );
    throw new InputError(
      `Cannot export as a protected MP4 to ${target}: ${(err as Error).message}`,
      "ERR_LIBRARY_EXPORT",
    );
  } finally {
    fileKey.key.fill(0);
  }
  return {
    path: target,
    keyPath,
    encryptedBytes: plan.ranges.reduce((n, r) => n + r.length, 0),
  };
}

/** Creates `path` (never an existing one) with `mode` from the first byte on, writes `data`, and syncs it. */
async function writeExclusive(path: string, data: Uint8Array, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
