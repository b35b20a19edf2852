/** @module Tests for the recorder's library: add, file, find by content, export, remove. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Library } from "./library.ts";

const root = join(import.meta.dir, "../../testdata");
const dir = mkdtempSync(join(tmpdir(), "pvrlink-lib-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const openFresh = () => {
  n++;
  return Library.open(join(dir, `data${n}`), join(dir, `lib${n}`));
};
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("Library", () => {
  test("add() copies, hashes and detects; list() and get() return it; remove() deletes row and copy", async () => {
    using lib = await openFresh();
    const src = join(root, "containers/ps-mpeg2.mpg");
    const bytes = readFileSync(src);
    const r = await lib.add(src, { secret: true, name: "Evening news" });
    expect(r).toMatchObject({
      name: "Evening news",
      size: bytes.length,
      sha256: sha(bytes),
      secret: true,
      type: "ps",
      protection: "sealed",
      origin: "local",
      sender: null,
    });
    expect(r.id).toMatch(/^rec_[A-Za-z0-9_-]{12}$/);
    expect(readFileSync(r.path).equals(bytes)).toBe(true);
    expect(statSync(r.path).mode & 0o077).toBe(0);
    expect(lib.list()).toEqual([r]);
    expect(lib.get(r.id)).toEqual(r);
    expect(await lib.remove(r.id)).toBe(true);
    expect(existsSync(r.path)).toBe(false);
    expect(lib.list()).toEqual([]);
    expect(await lib.remove(r.id)).toBe(false);
  });
  test("add() takes a video's protection", async () => {
    using lib = await openFresh();
    const r = await lib.add(join(root, "containers/ps-mpeg2.mpg"), { protection: "seed" });
    expect(lib.get(r.id)?.protection).toBe("seed");
  });
  test("add() files a non-video file as data without protection, named after the file", async () => {
    using lib = await openFresh();
    const src = join(dir, "notes.txt");
    writeFileSync(src, "not a recording");
    expect(await lib.add(src)).toMatchObject({
      name: "notes.txt",
      type: "data",
      protection: null,
      secret: false,
    });
  });
  test("keeps recordings across reopen (sqlite file in the data dir, WAL)", async () => {
    const data = join(dir, "persist-data");
    const libDir = join(dir, "persist-lib");
    let id: string;
    {
      using lib = await Library.open(data, libDir);
      id = (await lib.add(join(root, "es/mpeg1-gop15.m1v"))).id;
    }
    using again = await Library.open(data, libDir);
    expect(again.get(id)?.type).toBe("es");
    expect(existsSync(join(data, "library.sqlite-wal")) || existsSync(join(data, "library.sqlite"))).toBe(
      true,
    );
  });
  const bad: Array<[string, () => string, string]> = [
    ["a missing file", () => join(dir, "nope"), "ERR_LIBRARY_NO_FILE"],
    ["a directory", () => dir, "ERR_LIBRARY_NOT_FILE"],
  ];
  for (const [what, path, code] of bad) {
    test(`add() rejects ${what} with ${code}`, async () => {
      using lib = await openFresh();
      await expect(lib.add(path())).rejects.toThrow(expect.objectContaining({ code }));
    });
  }
  test("add() rejects a name with a control character and leaves no partial file", async () => {
    using lib = await openFresh();
    await expect(lib.add(join(root, "es/mpeg1-gop15.m1v"), { name: "a\u0007b" })).rejects.toThrow(
      expect.objectContaining({ code: "ERR_LIBRARY_NAME" }),
    );
    expect(readdirSync(join(dir, `lib${n}`, ".incoming"))).toEqual([]);
  });
  test("fileReceived() files a received recording with its sender and session", async () => {
    using lib = await openFresh();
    const bytes = readFileSync(join(root, "containers/ts-mpeg2.ts"));
    const tmp = lib.incomingPath();
    writeFileSync(tmp, bytes);
    const r = await lib.fileReceived({
      tempPath: tmp,
      name: "match.ts",
      secret: false,
      sender: "grandpa@example.org",
      sessionId: "sess1",
      expectedSha256: sha(bytes),
    });
    expect(r).toMatchObject({
      origin: "received",
      sender: "grandpa@example.org",
      sessionId: "sess1",
      type: "ts",
    });
    expect(existsSync(tmp)).toBe(false);
  });
  test("fileReceived() rejects and deletes a file whose hash does not match", async () => {
    using lib = await openFresh();
    const tmp = lib.incomingPath();
    writeFileSync(tmp, "tampered");
    await expect(
      lib.fileReceived({
        tempPath: tmp,
        name: "x",
        secret: false,
        sender: "s",
        expectedSha256: "0".repeat(64),
      }),
    ).rejects.toThrow(expect.objectContaining({ code: "ERR_LIBRARY_SHA256_MISMATCH" }));
    expect(existsSync(tmp)).toBe(false);
    expect(lib.list()).toEqual([]);
  });
  const verifiedCases = [
    { what: "takes the writer's size and SHA-256 and probes the type", sizeDelta: 0, code: undefined },
    {
      what: "rejects a file whose size on disk differs from what was written",
      sizeDelta: 1,
      code: "ERR_LIBRARY_SIZE",
    },
  ];
  for (const c of verifiedCases) {
    test(`fileReceived() with verified ${c.what}`, async () => {
      using lib = await openFresh();
      const bytes = readFileSync(join(root, "containers/ts-mpeg2.ts"));
      const tmp = lib.incomingPath();
      writeFileSync(tmp, bytes);
      const filing = lib.fileReceived({
        tempPath: tmp,
        name: "verified.ts",
        secret: false,
        sender: "s",
        expectedSha256: sha(bytes),
        verified: { size: bytes.length + c.sizeDelta, sha256: sha(bytes) },
      });
      if (c.code !== undefined) {
        await expect(filing).rejects.toThrow(expect.objectContaining({ code: c.code }));
        expect(lib.list()).toEqual([]);
      } else {
        expect(await filing).toMatchObject({ size: bytes.length, sha256: sha(bytes), type: "ts" });
      }
      expect(existsSync(tmp)).toBe(false);
    });
  }
});

describe("Library.findByContent()", () => {
  const write = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  test("Library.findByContent() finds a recording by SHA-256 under any file name, a secret copy first", async () => {
    using lib = await openFresh();
    const bytes = new TextEncoder().encode("the same content ".repeat(50));
    await lib.add(write("plain.bin", bytes));
    const secret = await lib.add(write("marked.bin", bytes), { secret: true });
    const found = await lib.findByContent(write("renamed.bin", bytes));
    expect(found?.id).toBe(secret.id);
    expect(found?.secret).toBe(true);
  });
  const misses: Array<[string, (b: Uint8Array) => Uint8Array]> = [
    ["content of another size", (b) => b.subarray(1)],
    [
      "content of the same size and one byte changed",
      (b) => Uint8Array.from(b, (x, i) => (i === 7 ? x ^ 1 : x)),
    ],
  ];
  for (const [name, change] of misses) {
    test(`Library.findByContent() finds nothing for ${name}`, async () => {
      using lib = await openFresh();
      const bytes = new TextEncoder().encode("library content ".repeat(40));
      await lib.add(write(`orig-${n}.bin`, bytes), { secret: true });
      expect(await lib.findByContent(write(`other-${n}.bin`, change(bytes)))).toBeUndefined();
    });
  }
});

describe("Library filing", () => {
  const received = async (lib: Library, bytes: Uint8Array, o: { name?: string; secret?: boolean } = {}) => {
    const tempPath = lib.incomingPath();
    writeFileSync(tempPath, bytes, { mode: 0o600 });
    const r = await lib.fileReceived({
      tempPath,
      name: o.name ?? "holiday.mpg",
      secret: o.secret ?? false,
      sender: "bob",
    });
    expect(existsSync(tempPath)).toBe(false);
    return r;
  };
  test("Library.fileReceived() keeps the name and extension in the file name, readable by others unless secret", async () => {
    using lib = await openFresh();
    const plain = await received(lib, new TextEncoder().encode("plain content"));
    expect(plain.path.endsWith(`${plain.id}-holiday.mpg`)).toBe(true);
    expect(statSync(plain.path).mode & 0o777).toBe(0o644);
    const secret = await received(lib, new TextEncoder().encode("secret content"), {
      name: "diary.ts",
      secret: true,
    });
    expect(secret.path.endsWith(`${secret.id}-diary.ts`)).toBe(true);
    expect(statSync(secret.path).mode & 0o777).toBe(0o600);
  });
  test("Library.fileReceived() does not file held content twice: it answers the held entry; a secret resend makes it secret", async () => {
    using lib = await openFresh();
    const bytes = new TextEncoder().encode("the same programme".repeat(10));
    const first = await received(lib, bytes);
    const again = await received(lib, bytes, { name: "renamed.mpg" });
    expect(again).toMatchObject({ id: first.id, name: first.name, duplicate: true, sha256: first.sha256 });
    expect(lib.list()).toHaveLength(1);
    expect(statSync(first.path).nlink).toBe(1);
    const secret = await received(lib, bytes, { secret: true });
    expect(secret).toMatchObject({ id: first.id, secret: true, duplicate: true });
    expect(lib.list().map((r) => r.secret)).toEqual([true]);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    // The received copies went: nothing is left in the incoming directory.
    expect(readdirSync(join(lib.dir, ".incoming"))).toEqual([]);
    expect(readFileSync(first.path)).toEqual(Buffer.from(bytes));
  });
  test("Library.fileReceived() files content received twice at once only once", async () => {
    using lib = await openFresh();
    const bytes = new TextEncoder().encode("two sessions deliver the same programme".repeat(50));
    const both = await Promise.all([received(lib, bytes), received(lib, bytes, { name: "other.mpg" })]);
    expect(lib.list()).toHaveLength(1);
    expect(both.map((r) => r.duplicate === true).sort()).toEqual([false, true]);
    expect(new Set(both.map((r) => r.id)).size).toBe(1);
    expect(readdirSync(join(lib.dir, ".incoming"))).toEqual([]);
  });
});
