/** @module Runs spool tests on both blob backends: `describe.each(SPOOL_BACKENDS)` plus `spoolBackend(kind)` for fresh spools. */
import { afterAll, beforeAll } from "bun:test";
import { readdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileBlobs } from "../../control/spool/file-blobs.ts";
import { S3Blobs } from "../../control/spool/s3-blobs.ts";
import type { SpoolBlobs } from "../../control/spool/spool-blobs.ts";
import type { SpoolStore } from "../../control/spool/spool-store.ts";
import { randomToken } from "../../crypto/random-token.ts";
import { S3Server } from "./s3-server.ts";

export type SpoolKind = "file" | "s3";

/** Both backends, for `describe.each`. */
export const SPOOL_BACKENDS: readonly SpoolKind[] = ["file", "s3"];

export interface SpoolBlobsOptions {
  partBytes?: number;
  orphanGraceMs?: number;
  syncEveryBytes?: number;
}

/** A fresh backend for one test: the factory SpoolStore takes, and what is stored (read around the backend). */
export interface SpoolUnderTest {
  factory: (index: SpoolStore) => SpoolBlobs;
  /** Names of what the backend holds: spool file names, or object keys below the test's prefix. */
  stored(): Promise<string[]>;
  /** Replaces a stored file or object with its first `keep` bytes (corruption tests). */
  truncate(name: string, keep: number): Promise<void>;
  /** Writes a stray file or object (orphan tests) at name. */
  put(name: string, bytes: Uint8Array): Promise<void>;
}

export interface SpoolBackend {
  readonly kind: SpoolKind;
  /** The S3 server (s3 only; started for the describe). */
  server(): S3Server;
  /**
   * The backend factory SpoolStore takes, over dir (file) or a fresh prefix of the server's bucket (s3);
   * partBytes sets the S3 part size (small, so tests cross part boundaries).
   */
  blobs(dir: string, o?: SpoolBlobsOptions): SpoolUnderTest;
  /** The node config keys for this backend: {} for file, the spool URL and credentials for s3. */
  nodeConfig(): Record<string, string | number>;
}

/** The filesystem spool in dir, with what a test reads around it. */
export function fileSpool(dir: string, o: SpoolBlobsOptions = {}): SpoolUnderTest {
  return {
    factory: () => new FileBlobs(dir, { syncEveryBytes: o.syncEveryBytes }),
    stored: async () => readdirSync(dir).filter((f) => f.endsWith(".part")),
    truncate: async (name, keep) => truncateSync(join(dir, name), keep),
    put: async (name, bytes) => writeFileSync(join(dir, name), bytes),
  };
}

/** Call inside a describe: for "s3" it starts one s3rver for the describe (beforeAll) and stops it after. */
export function spoolBackend(kind: SpoolKind): SpoolBackend {
  let s3: S3Server | null = null;
  if (kind === "s3") {
    beforeAll(async () => {
      s3 = await S3Server.start();
    }, 30_000);
    afterAll(async () => {
      await s3?.[Symbol.asyncDispose]();
    });
  }
  const server = () => {
    if (!s3) throw new Error("Cannot use the S3 spool: the test's s3rver did not start");
    return s3;
  };
  return {
    kind,
    server,
    blobs(dir, o = {}) {
      if (kind === "file") return fileSpool(dir, o);
      const prefix = `t-${randomToken(6)}`;
      const c = server().spoolConfig(prefix);
      const client = new Bun.S3Client({
        bucket: server().bucket,
        endpoint: c.s3Endpoint,
        region: c.s3Region,
        accessKeyId: c.s3AccessKeyId,
        secretAccessKey: c.s3SecretAccessKey,
      });
      const under = `${prefix}/`;
      return {
        stored: async () =>
          ((await client.list({ prefix: under })).contents ?? []).map((o) => o.key.slice(under.length)),
        truncate: async (name, keep) => {
          const bytes = new Uint8Array(await client.file(under + name).arrayBuffer());
          await client.write(under + name, bytes.subarray(0, keep));
        },
        put: async (name, bytes) => {
          await client.write(under + name, bytes);
        },
        factory: (index) =>
          new S3Blobs(
            {
              url: c.spool,
              endpoint: c.s3Endpoint,
              region: c.s3Region,
              accessKeyId: c.s3AccessKeyId,
              secretAccessKey: c.s3SecretAccessKey,
              partBytes: o.partBytes ?? 64 * 1024,
              ...(o.orphanGraceMs !== undefined ? { orphanGraceMs: o.orphanGraceMs } : {}),
            },
            index,
          ),
      };
    },
    nodeConfig() {
      if (kind === "file") return {};
      return { ...server().spoolConfig(`n-${randomToken(6)}`), spoolPartBytes: 64 * 1024 };
    },
  };
}
