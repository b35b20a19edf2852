/** @module Received recordings a person can use: named ID-NAME with their extension, readable, exportable, one copy on disk however often resent. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { libraryOf, sendToBob } from "../e2e/e2e-kit.ts";
import { summaryOf } from "../support/send-summary.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";

const cluster = aliceAndBobStage();

describe("received recordings", () => {
  test("a resent recording is kept once on disk under its name and extension, readable, and exports byte-identical", async () => {
    const file = join(cluster().root, "garden party.bin");
    writeFileSync(file, randomBytes(50_000));
    for (let i = 0; i < 3; i++) {
      const run = await sendToBob(cluster(), file);
      expect(run.code).toBe(0);
      expect(summaryOf(run.stdout).ok).toBe(true);
    }
    const sha = summaryOf((await sendToBob(cluster(), file)).stdout).sha256;
    const held = (await libraryOf(cluster(), "bob")).filter((r) => r.sha256 === sha);
    // Four sends, four entries (each its session), one copy on disk: the later ones link the first's file.
    expect(held).toHaveLength(4);
    expect(new Set(held.map((r) => statSync(r.path).ino)).size).toBe(1);
    const rec = held[0] as { id: string; path: string };
    expect(statSync(rec.path).nlink).toBe(4);
    expect(rec.path.endsWith(`${rec.id}-garden party.bin`)).toBe(true);
    expect(statSync(rec.path).mode & 0o777).toBe(0o644);
    const dest = join(cluster().root, "exported.bin");
    const exported = await cluster().recorderRun("bob", ["library", "export", rec.id, dest]);
    expect(exported.code).toBe(0);
    expect(readFileSync(dest)).toEqual(readFileSync(file));
  });
});
