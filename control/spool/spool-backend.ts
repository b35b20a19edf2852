/** @module Picks the spool's backend from the node's configuration: the spool directory by default, or S3 for `spool: s3://...`. */
import { FileBlobs } from "./file-blobs.ts";
import { S3Blobs } from "./s3-blobs.ts";
import type { SpoolBlobs } from "./spool-blobs.ts";
import type { SpoolStore } from "./spool-store.ts";

/** The configuration keys the backend reads (ControlConfig has them all). */
export interface SpoolBackendConfig {
  /** null: the filesystem spool in spoolDir; `s3://BUCKET/PREFIX`: S3-compatible object storage. */
  spool: string | null;
  s3Endpoint: string | null;
  s3Region: string | null;
  s3AccessKeyId: string | null;
  s3SecretAccessKey: string | null;
  spoolPartBytes: number;
  /** Names a filesystem spool's rows on a shared store (default the host name); stable across restarts. */
  nodeId: string | null;
}

/** A factory SpoolStore calls with itself (the S3 backend reads its part list from the index). */
export function spoolBlobsFor(
  config: SpoolBackendConfig,
  spoolDir: string,
): (index: SpoolStore) => SpoolBlobs {
  const { spool } = config;
  if (spool === null) return () => new FileBlobs(spoolDir, { nodeName: config.nodeId });
  return (index) =>
    new S3Blobs(
      {
        url: spool,
        endpoint: config.s3Endpoint,
        region: config.s3Region,
        accessKeyId: config.s3AccessKeyId,
        secretAccessKey: config.s3SecretAccessKey,
        partBytes: config.spoolPartBytes,
      },
      index,
    );
}
