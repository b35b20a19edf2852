/** @module End to end, compiled binary: an H.264 MP4 sent in pattern mode arrives byte-identical, and the receiver keeps it as a standard cbcs MP4 that ffmpeg decrypts with the key file to the original's frames. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { summaryOf } from "../support/send-summary.ts";

const FFMPEG = Bun.which("ffmpeg");
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  cluster = await startAliceAndBob();
  dir = await mkdtemp(join(tmpdir(), "pvrlink-kept-"));
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function framemd5(file: string, key?: string): string {
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
  return r.stdout.toString();
}

describe.skipIf(!FFMPEG)("keeping a received H.264 MP4 as a standard encrypted file", () => {
  test("library export --protected of a pattern-mode receipt: ffmpeg -decryption_key with DEST.key gives the original's frames; the key is in no output", async () => {
    const original = join(ROOT, "testdata/containers/mp4-h264.mp4");
    const run = await sendToBob(cluster, original, ["--protection", "pattern"]);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout).protection).toBe("pattern");
    const sha = await sha256File(original);
    const received = (await libraryOf(cluster, "bob")).find((r) => r.sha256 === sha);
    expect(received).toBeDefined();
    // The library holds the byte-identical original; the protected file is made from it on request.
    expect(await sha256File(received!.path)).toBe(sha);

    const target = join(dir, "kept.mp4");
    const args = ["library", "export", received!.id, target, "--protected"];
    const out = await cluster.ok([...args, "--data", cluster.recorder("bob").dataDir]);
    expect(out).toContain(`key in ${target}.key (mode 0600)`);
    const key = (await readFile(`${target}.key`, "utf8")).trim();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect((await stat(`${target}.key`)).mode & 0o777).toBe(0o600);
    expect(out).not.toContain(key);
    // Nor in bob's daemon's log lines (the export is a separate process; this guards against a future wiring).
    expect(cluster.recorder("bob").proc.lines.join("\n")).not.toContain(key);

    const want = framemd5(original);
    expect(want).toContain("0,");
    expect(framemd5(target, key)).toBe(want);
    expect(framemd5(target)).not.toBe(want);
    expect(await sha256File(target)).not.toBe(sha);

    const again = await cluster.run([...args, "--data", cluster.recorder("bob").dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(ERR_LIBRARY_EXPORT_EXISTS)");
  }, 60_000);
});
