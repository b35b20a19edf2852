/** @module A backup's copy of an S3 spool's part objects: streamed between the bucket and the backup directory through the spool's own S3 client. */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { openS3Spool, type S3SpoolTarget } from "../spool/s3-spool-client.ts";

/** The backup directory's folder for part objects: `s3/tr_…/NNNNNN-TOKEN`, the key below the spool's prefix. */
export const S3_PARTS_DIR = "s3";

function errorCode(err: unknown): string {
  return String((err as { code?: unknown } | null)?.code ?? (err as Error | null)?.name ?? "");
}

/**
 * Copies each object key (under the spool's prefix) to outDir/s3/REST, chunk by chunk from the GET's body, so
 * no object is ever whole in memory. Returns the backup paths written; an object deleted since the snapshot
 * (its transfer acknowledged meanwhile) is skipped, and the restored node's reconcile lowers its row as after a
 * crash. A key outside the prefix means the configuration is not the node's: TypeError.
 */
export async function copyPartsFromS3(
  target: S3SpoolTarget,
  keys: string[],
  outDir: string,
): Promise<string[]> {
  const { client, prefix } = openS3Spool(target);
  const written: string[] = [];
  for (const key of keys) {
    if (!key.startsWith(prefix))
      throw new TypeError(
        `Cannot back up part ${key}: it is not under the configured spool's prefix '${prefix}'`,
      );
    const rel = join(S3_PARTS_DIR, key.slice(prefix.length));
    const to = join(outDir, rel);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    const sink = Bun.file(to).writer();
    try {
      for await (const chunk of client.file(key).stream()) sink.write(chunk);
      await sink.end();
    } catch (err) {
      await Promise.resolve(sink.end()).catch(() => {});
      rmSync(to, { force: true });
      if (errorCode(err) === "NoSuchKey") continue;
      throw err;
    }
    chmodSync(to, 0o600);
    written.push(rel);
  }
  return written;
}

/**
 * Writes each backup path `s3/REST` (already checked against the manifest) to the configured bucket as
 * PREFIX/REST. Bun's client streams a file body (as a multipart upload when it is larger than a part).
 */
export async function copyPartsToS3(
  target: S3SpoolTarget,
  backupDir: string,
  paths: string[],
): Promise<void> {
  const { client, prefix } = openS3Spool(target);
  for (const rel of paths) {
    await client.write(prefix + rel.slice(S3_PARTS_DIR.length + 1), Bun.file(join(backupDir, rel)));
  }
}
