/** @module Tests of exportProtected(): ffmpeg decrypts the kept cbcs MP4 with the key file to the original's frames (and not without), the key file is 0600, and refusals leave nothing behind. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportProtected } from "./protected-export.ts";

const FFMPEG = Bun.which("ffmpeg");
const TESTDATA = join(import.meta.dir, "../../testdata/containers");
const dir = mkdtempSync(join(tmpdir(), "pvrlink-protected-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ffmpeg's per-frame MD5s of the video, decrypting with `key` when given; stderr for the failure case. */
function framemd5(file: string, key?: string): { md5: string; code: number } {
  const r = Bun.spawnSync([
    FFMPEG!,
    "-v",
    "error",
    ...(key ? ["-decryption_key", key] : []),
    "-i",
    file,
    "-map",
    "0:v",
    "-f",
    "framemd5",
    "-",
  ]);
  return { md5: r.stdout.toString(), code: r.exitCode };
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe.skipIf(!FFMPEG)("exportProtected() against ffmpeg 5.1's cbcs decryption", () => {
  for (const name of ["mp4-h264.mp4", "mp4-h264-faststart.mp4"]) {
    test(`exportProtected() of ${name}: ffmpeg -decryption_key with the key file gives the original's frames, without it not`, async () => {
      const source = join(TESTDATA, name);
      const target = join(dir, `kept-${name}`);
      const r = await exportProtected(source, target);
      expect(r.keyPath).toBe(`${target}.key`);
      expect(statSync(r.keyPath).mode & 0o777).toBe(0o600);
      const key = readFileSync(r.keyPath, "utf8");
      expect(key).toMatch(/^[0-9a-f]{32}\n$/);
      const kept = readFileSync(target);
      // The file says it is protected, and its sample bytes are not the original's.
      expect(kept.includes(Buffer.from("encv"))).toBe(true);
      expect(kept.includes(Buffer.from("cbcs"))).toBe(true);
      expect(r.encryptedBytes).toBeGreaterThan(0);
      const want = framemd5(source);
      expect(want.code).toBe(0);
      expect(want.md5).toContain("0,");
      expect(framemd5(target, key.trim()).md5).toBe(want.md5);
      expect(framemd5(target).md5).not.toBe(want.md5);
      // Two exports, two fresh keys.
      const again = await exportProtected(source, `${target}.2`);
      expect(readFileSync(again.keyPath, "utf8")).not.toBe(key);
    });
  }
});

describe("exportProtected()", () => {
  test("exportProtected() refuses a file that is not an H.264 MP4 with ERR_LIBRARY_EXPORT_PROTECTED and writes nothing", async () => {
    const out = mkdtempSync(join(dir, "refuse-"));
    for (const [i, source] of [
      join(TESTDATA, "ts-h264.ts"),
      join(TESTDATA, "ts-mpeg2.ts"),
      join(TESTDATA, "mp4-h264.mp4.types.json"),
    ].entries()) {
      expect(await code(exportProtected(source, join(out, `x${i}.mp4`)))).toBe(
        "ERR_LIBRARY_EXPORT_PROTECTED",
      );
    }
    expect(readdirSync(out)).toEqual([]);
  });

  test("exportProtected() never overwrites the target or its key file, and leaves no half of a pair", async () => {
    const out = mkdtempSync(join(dir, "exists-"));
    const source = join(TESTDATA, "mp4-h264.mp4");
    writeFileSync(join(out, "a.mp4"), "mine");
    expect(await code(exportProtected(source, join(out, "a.mp4")))).toBe("ERR_LIBRARY_EXPORT_EXISTS");
    expect(readFileSync(join(out, "a.mp4"), "utf8")).toBe("mine");
    writeFileSync(join(out, "b.mp4.key"), "my key");
    expect(await code(exportProtected(source, join(out, "b.mp4")))).toBe("ERR_LIBRARY_EXPORT_EXISTS");
    expect(readFileSync(join(out, "b.mp4.key"), "utf8")).toBe("my key");
    expect(readdirSync(out).sort()).toEqual(["a.mp4", "b.mp4.key"]);
  });

  test("exportProtected() of every truncation of an MP4 gives a protected file or ERR_LIBRARY_EXPORT_PROTECTED", async () => {
    const out = mkdtempSync(join(dir, "cut-"));
    const bytes = readFileSync(join(TESTDATA, "mp4-h264-faststart.mp4"));
    const seen = new Set<string>();
    for (const cut of [16, 100, 700, 2000, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const source = join(out, `cut-${cut}.mp4`);
      writeFileSync(source, bytes.subarray(0, cut));
      const c = await code(exportProtected(source, join(out, `kept-${cut}.mp4`)));
      seen.add(c ?? "ok");
      expect([undefined, "ERR_LIBRARY_EXPORT_PROTECTED"]).toContain(c);
    }
    expect(seen).toContain("ERR_LIBRARY_EXPORT_PROTECTED");
  });
});
