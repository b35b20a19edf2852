/** @module Scans a recording file in one pass: size, SHA-256 and type, copying it on the way when asked. */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { InputError } from "../../cli/command.ts";
import { detectRecordingType, type RecordingType, TYPE_PROBE_BYTES } from "./detect-recording-type.ts";

/** What one read of a recording file tells: its size, SHA-256 and detected type. */
export interface Scan {
  size: number;
  sha256: string;
  type: RecordingType;
}

/** The Scan of a file whose size and SHA-256 its writer already checked: its size on disk and its type probe. */
export async function probeVerified(path: string, verified: { size: number; sha256: string }): Promise<Scan> {
  await using handle = await open(path, "r");
  const { size } = await handle.stat();
  if (size !== verified.size) {
    throw new InputError(
      `Cannot file ${path}: ${size} bytes on disk, ${verified.size} written`,
      "ERR_LIBRARY_SIZE",
    );
  }
  const probe = new Uint8Array(Math.min(TYPE_PROBE_BYTES, size));
  const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
  return { size, sha256: verified.sha256, type: detectRecordingType(probe.subarray(0, bytesRead), true) };
}

/** Streams source once: hashes it, keeps the first bytes for type detection, and copies it to dest if given. */
export async function copyAndScan(source: string, dest: string | undefined): Promise<Scan> {
  const hash = createHash("sha256");
  const probe = new Uint8Array(TYPE_PROBE_BYTES);
  let probeFill = 0;
  let size = 0;
  const input = createReadStream(source, { highWaterMark: 1024 * 1024 });
  async function* tap(src: AsyncIterable<Buffer>) {
    for await (const chunk of src) {
      hash.update(chunk);
      if (probeFill < probe.length) {
        const k = Math.min(probe.length - probeFill, chunk.length);
        probe.set(chunk.subarray(0, k), probeFill);
        probeFill += k;
      }
      size += chunk.length;
      yield chunk;
    }
  }
  if (dest !== undefined) {
    await pipeline(input, tap, createWriteStream(dest, { flags: "wx", mode: 0o600 }));
  } else {
    for await (const _ of tap(input)) {
      // hashing only
    }
  }
  return { size, sha256: hash.digest("hex"), type: detectRecordingType(probe.subarray(0, probeFill), true) };
}
