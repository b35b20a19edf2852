/** @module Finds what `pvrlink send` sends: a library recording by ID, or a file with the library's attributes for its content. */
import { stat } from "node:fs/promises";
import { InputError } from "../../cli/command.ts";
import type { resolveConfig } from "../config/recorder-config.ts";
import type { RecordingType } from "../library/detect-recording-type.ts";
import { Library, type Recording } from "../library/library.ts";
import type { ProtectionMode } from "../library/protection-mode.ts";

/** The attributes known before the plan reads the recording (the rest is detected). */
export type KnownAttributes = {
  name?: string;
  secret?: boolean;
  type?: RecordingType;
  protection?: ProtectionMode;
};

/** The attributes a library recording gives a send; secret when --secret says so or any copy of it is secret. */
function attributesOf(rec: Recording, library: Library, secret: boolean): KnownAttributes {
  return {
    name: rec.name,
    secret: secret || rec.secret || library.bySha256(rec.sha256)?.secret === true,
    type: rec.type,
    ...(rec.protection ? { protection: rec.protection } : {}),
  };
}

/**
 * A library id (rec_...) takes the library's copy and attributes. Any other target must be a readable file; when
 * the library holds the same content (by SHA-256) its attributes apply, so `library add x --secret` then `send x`
 * never puts x on the direct channel.
 */
export async function locateRecording(
  target: string,
  config: Awaited<ReturnType<typeof resolveConfig>>,
  secret: boolean,
): Promise<{ path: string; known: KnownAttributes; from?: Recording }> {
  using library = await Library.open(config.dataDir, config.libraryDir);
  if (/^rec_[A-Za-z0-9_-]+$/.test(target)) {
    const rec = library.get(target);
    if (!rec)
      throw new InputError(
        `Cannot send ${target}: no such recording in the library; 'pvrlink library list' shows the IDs`,
        "ERR_SEND_NO_RECORDING",
      );
    return { path: rec.path, known: attributesOf(rec, library, secret), from: rec };
  }
  try {
    if (!(await stat(target)).isFile()) throw new Error("not a regular file");
  } catch (err) {
    throw new InputError(`Cannot send ${target}: ${(err as Error).message}`, "ERR_SEND_NO_FILE");
  }
  const rec = await library.findByContent(target);
  if (rec === undefined) return { path: target, known: { secret } };
  return { path: target, known: attributesOf(rec, library, secret), from: rec };
}
