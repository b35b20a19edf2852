/** @module A throwaway S3-compatible server (s3rver from npm, under Node) for tests, on a free loopback port with a temp directory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** Started under Node (s3rver is a Koa app): its own process, as a deployment's S3 server is. */
const SERVER_SCRIPT = `
const S3rver = require(process.argv[1]);
const [directory, buckets] = [process.argv[2], process.argv[3].split(",")];
new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true,
  configureBuckets: buckets.map((name) => ({ name })) })
  .run()
  .then((a) => console.log(JSON.stringify({ port: a.port })), (e) => { console.error(e); process.exit(1); });
`;

/** s3rver accepts any signature made with these (its documented defaults). */
export const S3RVER_KEY = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** `await using s3 = await S3Server.start()`; `s3.endpoint`, `s3.bucket` and S3RVER_KEY are what the spool takes. */
export class S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly directory: string;
  readonly #proc: Subprocess;

  private constructor(o: { endpoint: string; bucket: string; directory: string; proc: Subprocess }) {
    this.endpoint = o.endpoint;
    this.bucket = o.bucket;
    this.directory = o.directory;
    this.#proc = o.proc;
  }

  static async start(bucket = "pvrlink-spool"): Promise<S3Server> {
    const directory = mkdtempSync(join(tmpdir(), "pvrlink-s3rver-"));
    const proc = Bun.spawn(["node", "-e", SERVER_SCRIPT, require.resolve("s3rver"), directory, bucket], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) {
        rmSync(directory, { recursive: true, force: true });
        const err = await new Response(proc.stderr as ReadableStream<Uint8Array>).text();
        throw new Error(`Cannot start s3rver: it exited before printing its port: ${err}`);
      }
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const { port } = JSON.parse(text.split("\n")[0]!) as { port: number };
    return new S3Server({ endpoint: `http://127.0.0.1:${port}`, bucket, directory, proc });
  }

  /** The config keys a node's S3 spool takes, under `prefix` of this server's bucket. */
  spoolConfig(prefix: string) {
    return {
      spool: `s3://${this.bucket}/${prefix}`,
      s3Endpoint: this.endpoint,
      s3Region: "us-east-1",
      s3AccessKeyId: S3RVER_KEY.accessKeyId,
      s3SecretAccessKey: S3RVER_KEY.secretAccessKey,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#proc.kill();
    await this.#proc.exited;
    rmSync(this.directory, { recursive: true, force: true });
  }
}
