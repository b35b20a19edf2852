/** @module Integration: `pvrlink control backup|restore` of a node whose spool is on S3 (s3rver), its part objects included. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import { makeDataDir, startNode } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";
import { S3Server } from "../support/s3-server.ts";
import { type StoredItem, storeItem } from "../support/stored-item.ts";

/** Small parts, so the item spans several objects. */
const PART_BYTES = 64 * 1024;
const ITEM_BYTES = 3 * PART_BYTES + 1234;

let s3: S3Server;
let item: StoredItem;
let nodeConfig: Record<string, unknown>;
let prefix: string;
const tmp = mkdtempSync(join(tmpdir(), "pvrlink-s3bk-"));
const backup = join(tmp, "backup");
const data = makeDataDir("pvrlink-s3bk-data-");
/** The node's S3 settings in a file outside its data directory, as `--config` for backup and restore. */
const configFile = join(tmp, "s3.json");

function client() {
  const c = s3.spoolConfig(prefix);
  return new Bun.S3Client({
    bucket: s3.bucket,
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    accessKeyId: c.s3AccessKeyId,
    secretAccessKey: c.s3SecretAccessKey,
  });
}

async function objectsUnderPrefix(): Promise<string[]> {
  return ((await client().list({ prefix: `${prefix}/` })).contents ?? []).map((o) => o.key);
}

/** What a lost bucket and a lost machine leave: no objects under the prefix and an empty data directory. */
async function wipe(): Promise<void> {
  for (const key of await objectsUnderPrefix()) await client().delete(key);
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { mode: 0o700 });
}

beforeAll(async () => {
  s3 = await S3Server.start();
  prefix = `bk-${randomToken(6)}`;
  nodeConfig = { ...s3.spoolConfig(prefix), spoolPartBytes: PART_BYTES };
  writeFileSync(configFile, JSON.stringify(nodeConfig));
  await using node = await startNode({ dataDir: data, keepData: true, config: nodeConfig });
  item = await storeItem(node, "s3bk", ITEM_BYTES);
  // Taken while the node runs.
  const r = await pvrlink(["control", "backup", backup, "--data", data, "--config", configFile]);
  if (r.code !== 0) throw new Error(`backup failed (${r.code}): ${r.stderr}`);
}, 60_000);
afterAll(async () => {
  await s3?.[Symbol.asyncDispose]();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

describe("backup and restore with an S3 spool", () => {
  test("the backup holds every part object of the item, each in the manifest", () => {
    const manifest = JSON.parse(readFileSync(join(backup, "pvrlink-backup.json"), "utf8")) as {
      spool: string;
      files: Array<{ path: string; bytes: number }>;
    };
    const parts = manifest.files.filter((f) => f.path.startsWith("s3/"));
    expect(manifest.spool).toBe(`s3://${s3.bucket}/${prefix}/`);
    expect(parts.map((f) => f.path.split("/")[1])).toEqual(parts.map(() => item.transferId));
    expect(parts.reduce((n, f) => n + f.bytes, 0)).toBe(ITEM_BYTES);
    expect(parts.length).toBe(Math.ceil(ITEM_BYTES / PART_BYTES));
    expect(readdirSync(join(backup, "s3", item.transferId)).length).toBe(parts.length);
  });

  test("restore after the bucket prefix and data directory are lost: the item downloads byte-identical", async () => {
    await wipe();
    expect(await objectsUnderPrefix()).toEqual([]);
    const r = await pvrlink(["control", "restore", backup, "--data", data, "--config", configFile]);
    expect(r.code).toBe(0);
    expect((await objectsUnderPrefix()).length).toBe(Math.ceil(ITEM_BYTES / PART_BYTES));
    await using node = await startNode({ dataDir: data, keepData: true, config: nodeConfig });
    const b = node.client(item.callee);
    expect(JSON.stringify(await b.inbox())).toContain(item.transferId);
    const got = new Uint8Array(await (await b.downloadData(item.transferId, 0)).arrayBuffer());
    expect(Buffer.from(got).equals(Buffer.from(item.data))).toBe(true);
  });

  const refusals: Array<[string, (copy: string) => string[], string, string]> = [
    [
      "a tampered part object",
      (copy) => {
        const dir = join(copy, "s3", item.transferId);
        writeFileSync(join(dir, readdirSync(dir)[1]!), "tampered");
        return ["--config", configFile];
      },
      "ERR_BACKUP_CORRUPT",
      "does not match its checksum",
    ],
    ["no S3 spool configured", () => [], "ERR_BACKUP_TARGET", "no s3:// spool is configured"],
    [
      "another prefix configured",
      (copy) => configuredSpool(copy, `s3://${s3.bucket}/elsewhere`),
      "ERR_BACKUP_TARGET",
      "but the configured spool is",
    ],
    [
      "another bucket configured",
      (copy) => configuredSpool(copy, `s3://other-bucket/${prefix}`),
      "ERR_BACKUP_TARGET",
      "but the configured spool is",
    ],
  ];
  for (const [what, damage, code, why] of refusals) {
    test(`restore refuses ${what} with ${code} and writes nothing`, async () => {
      await wipe();
      const copy = join(mkdtempSync(join(tmp, "copy-")), "b");
      cpSync(backup, copy, { recursive: true });
      const args = damage(copy);
      const r = await pvrlink(["control", "restore", copy, "--data", data, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(code);
      expect(r.stderr).toContain(why);
      expect(existsSync(join(data, "control.db"))).toBe(false);
      expect(await s3ObjectsAnywhere()).toEqual([]);
    });
  }
});

/** `--config` of a file beside the backup copy that names another spool, the rest of the node's S3 settings kept. */
function configuredSpool(copy: string, spool: string): string[] {
  const other = join(copy, "..", "other.json");
  writeFileSync(other, JSON.stringify({ ...nodeConfig, spool }));
  return ["--config", other];
}

/** Every object in the bucket: a refused restore writes under no prefix at all. */
async function s3ObjectsAnywhere(): Promise<string[]> {
  return ((await client().list({})).contents ?? []).map((o) => o.key);
}
