/** @module Tests for the backup's copy of S3 part objects against s3rver. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import { S3Server } from "../../test/support/s3-server.ts";
import { copyPartsFromS3, copyPartsToS3 } from "./s3-part-copy.ts";

let s3: S3Server;
const tmp = mkdtempSync(join(tmpdir(), "pvrlink-partcopy-"));
beforeAll(async () => {
  s3 = await S3Server.start();
}, 30_000);
afterAll(async () => {
  await s3?.[Symbol.asyncDispose]();
  rmSync(tmp, { recursive: true, force: true });
});

const TRANSFER = "tr_0123456789abcdefghijkl";

/** A fresh prefix of the server's bucket: the copy's target, and a client to look around it. */
function spoolUnder(prefix: string) {
  const c = s3.spoolConfig(prefix);
  const target = {
    url: c.spool,
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    accessKeyId: c.s3AccessKeyId,
    secretAccessKey: c.s3SecretAccessKey,
  };
  const client = new Bun.S3Client({
    bucket: s3.bucket,
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    accessKeyId: c.s3AccessKeyId,
    secretAccessKey: c.s3SecretAccessKey,
  });
  return { target, client };
}

describe("copyPartsFromS3() and copyPartsToS3()", () => {
  test("a part object goes to s3/REST (0600) and back to its key byte-identical", async () => {
    const prefix = `pc-${randomToken(6)}`;
    const { target, client } = spoolUnder(prefix);
    // Larger than one read chunk of the GET body, so the copy crosses chunks.
    const bytes = new Uint8Array(700_001).map((_, i) => (i * 31 + 7) & 0xff);
    const key = `${prefix}/${TRANSFER}/000001-a`;
    await client.write(key, bytes);
    const out = mkdtempSync(join(tmp, "out-"));
    const written = await copyPartsFromS3(target, [key], out);
    expect(written).toEqual([`s3/${TRANSFER}/000001-a`]);
    expect(statSync(join(out, written[0]!)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(join(out, written[0]!))).equals(Buffer.from(bytes))).toBe(true);
    await client.delete(key);
    await copyPartsToS3(target, out, written);
    expect(Buffer.from(await client.file(key).arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  test("copyPartsFromS3() skips an object deleted since the snapshot", async () => {
    const prefix = `pc-${randomToken(6)}`;
    const { target, client } = spoolUnder(prefix);
    await client.write(`${prefix}/${TRANSFER}/000001-a`, "kept");
    const out = mkdtempSync(join(tmp, "out-"));
    const keys = [`${prefix}/${TRANSFER}/000001-a`, `${prefix}/${TRANSFER}/000002-gone`];
    expect(await copyPartsFromS3(target, keys, out)).toEqual([`s3/${TRANSFER}/000001-a`]);
    expect(() => statSync(join(out, "s3", TRANSFER, "000002-gone"))).toThrow();
  });

  test("copyPartsFromS3() refuses a key outside the configured prefix", async () => {
    const { target } = spoolUnder(`pc-${randomToken(6)}`);
    const out = mkdtempSync(join(tmp, "out-"));
    await expect(copyPartsFromS3(target, [`other/${TRANSFER}/000001-a`], out)).rejects.toThrow(
      /not under the configured spool's prefix/,
    );
  });
});
