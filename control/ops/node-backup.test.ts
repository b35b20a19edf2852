import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlDatabase } from "../store/control-database.ts";
import { DeviceStore } from "../store/device-store.ts";
import { SqliteDriver } from "../store/sqlite-driver.ts";
import { BackupError, backupNode, MANIFEST_FILE, restoreNode } from "./node-backup.ts";

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data directory with one device, an admin token and a TLS-like key file; the database stays open (WAL). */
async function dataDir() {
  const data = tmp("pvrlink-bk-data-");
  const db = new SqliteDriver(openControlDatabase(join(data, "control.db")));
  const dev = await new DeviceStore(db).enroll("box");
  writeFileSync(join(data, "admin-token"), "adm_0123456789abcdef\n", { mode: 0o600 });
  writeFileSync(join(data, "tls-key.pem"), "-----BEGIN PRIVATE KEY-----\n", { mode: 0o600 });
  return { data, db, dev };
}

describe("backupNode() and restoreNode()", () => {
  test("a snapshot taken with the database open restores with the device, token and key files", async () => {
    const { data, db, dev } = await dataDir();
    const out = join(tmp("pvrlink-bk-out-"), "b");
    const m = await backupNode(data, out, { now: 1000 });
    // Written after the snapshot: must not be in it.
    await new DeviceStore(db).enroll("late");
    await db.close();
    expect(m.files.map((f) => f.path).sort()).toEqual(["admin-token", "control.db", "tls-key.pem"]);
    const fresh = tmp("pvrlink-bk-fresh-");
    await restoreNode(out, fresh);
    const restored = new SqliteDriver(openControlDatabase(join(fresh, "control.db")));
    const names = (await new DeviceStore(restored).list()).map((d) => d.name);
    await restored.close();
    expect(names).toEqual(["box"]);
    expect(readFileSync(join(fresh, "tls-key.pem"), "utf8")).toContain("PRIVATE KEY");
    expect(statSync(join(fresh, "control.db")).mode & 0o777).toBe(0o600);
    expect(dev.id).toStartWith("dev_");
  });

  const backupRefusals: Array<[string, (data: string, out: string) => Promise<unknown>, string]> = [
    [
      "a directory with no database",
      (_d, out) => backupNode(tmp("pvrlink-bk-empty-"), out),
      "ERR_BACKUP_SOURCE",
    ],
    [
      "a non-empty target",
      async (d, out) => {
        await backupNode(d, out);
        await backupNode(d, out);
      },
      "ERR_BACKUP_TARGET",
    ],
    [
      "a spool on S3 when no S3 spool is configured",
      (d, out) => {
        const raw = new Database(join(d, "control.db"));
        raw.run(
          "INSERT INTO spool_parts VALUES ('tr_0123456789abcdefghijkl', 1, 0, 5, 'p/tr_0123456789abcdefghijkl/000001-a')",
        );
        raw.close();
        return backupNode(d, out);
      },
      "ERR_BACKUP_SOURCE",
    ],
  ];
  for (const [what, f, code] of backupRefusals) {
    test(`backupNode() refuses ${what} with ${code}`, async () => {
      const { data, db } = await dataDir();
      const out = join(tmp("pvrlink-bk-out-"), "b");
      try {
        await expect(f(data, out)).rejects.toThrow(expect.objectContaining({ code }) as unknown as Error);
      } finally {
        await db.close();
      }
    });
  }

  const corruptions: Array<[string, (out: string) => void, BackupError["code"]]> = [
    [
      "a file entry that is not an object",
      (out) => editManifest(out, (m) => ({ ...m, files: [null as unknown as Manifest["files"][number]] })),
      "ERR_BACKUP_CORRUPT",
    ],
    ["a missing manifest", (out) => rmSync(join(out, MANIFEST_FILE)), "ERR_BACKUP_CORRUPT"],
    [
      "a manifest that is not JSON",
      (out) => writeFileSync(join(out, MANIFEST_FILE), "{"),
      "ERR_BACKUP_CORRUPT",
    ],
    ["an unknown format", (out) => editManifest(out, (m) => ({ ...m, format: 99 })), "ERR_BACKUP_CORRUPT"],
    ["a changed file", (out) => writeFileSync(join(out, "admin-token"), "adm_other\n"), "ERR_BACKUP_CORRUPT"],
    ["a missing file", (out) => rmSync(join(out, "tls-key.pem")), "ERR_BACKUP_CORRUPT"],
    [
      "a path leaving the directory",
      (out) =>
        editManifest(out, (m) => ({ ...m, files: [...m.files, { path: "../x", bytes: 0, sha256: "" }] })),
      "ERR_BACKUP_CORRUPT",
    ],
    [
      "an absolute path",
      (out) => editManifest(out, (m) => ({ ...m, files: [{ path: "/etc/passwd", bytes: 0, sha256: "" }] })),
      "ERR_BACKUP_CORRUPT",
    ],
    [
      "a database that is not sqlite (checksums matching)",
      (out) => {
        writeFileSync(join(out, "control.db"), "not a database at all".repeat(100));
        editManifest(out, (m) => ({
          ...m,
          files: m.files.map((f) =>
            f.path === "control.db"
              ? {
                  ...f,
                  sha256: new Bun.CryptoHasher("sha256")
                    .update(readFileSync(join(out, "control.db")))
                    .digest("hex"),
                }
              : f,
          ),
        }));
      },
      "ERR_BACKUP_CORRUPT",
    ],
  ];
  for (const [what, damage, code] of corruptions) {
    test(`restoreNode() refuses ${what} with ${code} and writes nothing`, async () => {
      const { data, db } = await dataDir();
      const out = join(tmp("pvrlink-bk-out-"), "b");
      await backupNode(data, out);
      await db.close();
      damage(out);
      const fresh = tmp("pvrlink-bk-fresh-");
      let err: unknown;
      try {
        await restoreNode(out, fresh);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).code).toBe(code);
      expect(existsSync(join(fresh, "control.db"))).toBe(false);
    });
  }

  test("restoreNode() refuses a data directory that already has a database", async () => {
    const { data, db } = await dataDir();
    const out = join(tmp("pvrlink-bk-out-"), "b");
    await backupNode(data, out);
    await db.close();
    await expect(restoreNode(out, data)).rejects.toThrow(/already holds control.db/);
  });
});

type Manifest = {
  format: number;
  createdAt: number;
  files: Array<{ path: string; bytes: number; sha256: string }>;
};
function editManifest(out: string, f: (m: Manifest) => Manifest): void {
  const p = join(out, MANIFEST_FILE);
  writeFileSync(p, JSON.stringify(f(JSON.parse(readFileSync(p, "utf8")) as Manifest)));
}
