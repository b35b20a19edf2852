/** @module The S3 client of an `s3://BUCKET/PREFIX` spool (Bun's), shared by the spool's blob store and the node's backup. */
import type { S3Client } from "bun";

/** Where an S3 spool is and how to reach it (the spool's configuration keys). */
export interface S3SpoolTarget {
  /** `s3://BUCKET/PREFIX` (the prefix may be empty). */
  url: string;
  /** An S3-compatible endpoint (MinIO, Ceph RGW, s3rver); null: AWS for the region (or S3_ENDPOINT). */
  endpoint?: string | null;
  region?: string | null;
  /** null: Bun's client reads S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID and the matching secret from the environment. */
  accessKeyId?: string | null;
  secretAccessKey?: string | null;
}

/** An opened S3 spool: the client for its bucket, and the prefix its object keys start with. */
export interface S3SpoolClient {
  client: S3Client;
  bucket: string;
  /** Ends with "/", or is empty. */
  prefix: string;
  /** `s3://BUCKET/PREFIX/`, as rows and logs name it. */
  location: string;
}

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** Splits `s3://bucket/prefix` into the bucket and a prefix that ends with "/" (or is empty). */
export function parseS3SpoolUrl(url: string): { bucket: string; prefix: string } {
  const m = S3_URL.exec(url);
  if (!m)
    throw new TypeError(`Cannot use spool '${url}': expected s3://BUCKET/PREFIX with a valid bucket name`);
  const raw = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  return { bucket: m[1]!, prefix: raw === "" ? "" : `${raw}/` };
}

/** Opens Bun's S3 client for the spool's bucket (path-style URLs for a custom endpoint). */
export function openS3Spool(o: S3SpoolTarget): S3SpoolClient {
  const { bucket, prefix } = parseS3SpoolUrl(o.url);
  const client = new Bun.S3Client({
    bucket,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    ...(o.secretAccessKey ? { secretAccessKey: o.secretAccessKey } : {}),
  });
  return { client, bucket, prefix, location: `s3://${bucket}/${prefix}` };
}
