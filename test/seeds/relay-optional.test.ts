/** @module End to end, compiled binary: seed A variation 14, a node whose transfer processing is switched off (`relayThresholdBytes: 0`). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { filedEntry, libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;
let plain: string;
let secret: string;

beforeAll(async () => {
  // Variation 14: the intermediate server's transfer processing is not mandatory. Threshold 0 refuses every
  // non-empty transfer (413 transfer_too_large), so the node only resolves addresses and issues sessions.
  cluster = await startAliceAndBob({ nodeConfig: { relayThresholdBytes: 0 } });
  plain = join(cluster.root, "plain.bin");
  secret = join(cluster.root, "secret.bin");
  await writeFile(plain, randomBytes(120_000));
  await writeFile(secret, randomBytes(120_000));
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** Alice's send through a tap on bob's direct port, so the test sees every byte that went directly. */
async function send(file: string, extra: string[] = []) {
  await using tap = await Tap.start(cluster.recorder("bob").direct);
  const run = await sendToBob(cluster, file, ["--direct", `127.0.0.1:${tap.port}`, ...extra]);
  return { run, summary: summaryOf(run.stdout), wire: tap.upstream() };
}

/** Whether any 32-byte window of the file's start appears in the captured bytes (the file is random). */
function leaks(file: string, wire: Uint8Array): boolean {
  const bytes = readFileSync(file);
  const hay = Buffer.from(wire);
  for (let at = 0; at + 32 <= bytes.length; at += 4096)
    if (hay.includes(bytes.subarray(at, at + 32))) return true;
  return false;
}

describe("a node without transfer processing (A variation 14)", () => {
  test("ordinary data still goes directly, byte-identical, with nothing through the node", async () => {
    // The light seed mode, as seed A describes ordinary data: its direct frames are not sealed, so its bytes
    // show on the tap, which is the control for leaks().
    const { run, summary, wire } = await send(plain, ["--protection", "seed"]);
    expect(run.code).toBe(0);
    expect(leaks(plain, wire)).toBe(true);
    expect(summary).toMatchObject({ ok: true, route: "data", bytesRelay: 0, bytesDirect: 120_000 });
    const filed = await filedEntry(cluster, "bob", { sha256: summary.sha256 });
    expect(await sha256File(filed.path)).toBe(await sha256File(plain));
  });

  test("a secret item is refused with transfer_too_large, never sent in clear on the direct path", async () => {
    const { run, summary, wire } = await send(secret, ["--secret"]);
    expect(run.code).toBe(1);
    expect(summary.ok).toBe(false);
    expect(summary.code).toBe("transfer_too_large");
    expect(leaks(secret, wire)).toBe(false);
    expect((await libraryOf(cluster, "bob")).some((r) => r.sha256 === summary.sha256)).toBe(false);
  });

  test("a video's I-pictures are refused with it: the split send fails, and no picture is filed half", async () => {
    const video = join(import.meta.dir, "../../testdata/es/mpeg2-gop15.m2v");
    const before = (await libraryOf(cluster, "bob")).length;
    const { run, summary } = await send(video);
    expect(run.code).toBe(1);
    expect(summary.code).toBe("transfer_too_large");
    expect((await libraryOf(cluster, "bob")).length).toBe(before);
  });
});
