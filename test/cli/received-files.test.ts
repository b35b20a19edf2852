/** @module Received recordings a person can use: named ID-NAME with their extension, readable, exportable, filed once however often resent, and the sender told. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";

const cluster = aliceAndBobStage();

describe("received recordings", () => {
  test("a resent recording is filed once under its name and extension, the sender is told, and it exports byte-identical", async () => {
    const file = join(cluster().root, "garden party.bin");
    writeFileSync(file, randomBytes(50_000));
    const first = await sendToBob(cluster(), file);
    expect(first.code).toBe(0);
    expect(summaryOf(first.stdout)).toMatchObject({ ok: true });
    expect(summaryOf(first.stdout).alreadyHeld).toBeUndefined();
    // The same bytes again, and under another name: bob verifies them, files nothing new, and alice is told.
    const renamed = join(cluster().root, "renamed copy.bin");
    copyFileSync(file, renamed);
    for (const again of [file, renamed]) {
      const run = await sendToBob(cluster(), again);
      expect(run.code).toBe(0);
      expect(summaryOf(run.stdout)).toMatchObject({ ok: true, alreadyHeld: true });
      expect(summaryOf(run.stdout).message).toContain("nothing new was filed");
    }
    const text = await cluster().recorderRun("alice", ["send", file, "--to", "bob"]);
    expect(text.stdout + text.stderr).toContain("already had it");
    const sha = summaryOf(first.stdout).sha256;
    const held = (await libraryOf(cluster(), "bob")).filter((r) => r.sha256 === sha);
    expect(held).toHaveLength(1);
    const rec = held[0] as { id: string; path: string };
    expect(statSync(rec.path).nlink).toBe(1);
    expect(rec.path.endsWith(`${rec.id}-garden party.bin`)).toBe(true);
    expect(statSync(rec.path).mode & 0o777).toBe(0o644);
    const dest = join(cluster().root, "exported.bin");
    const exported = await cluster().recorderRun("bob", ["library", "export", rec.id, dest]);
    expect(exported.code).toBe(0);
    expect(readFileSync(dest)).toEqual(readFileSync(file));
  });
  test("a split video sent twice is filed once; a secret resend makes the held entry secret and owner-only", async () => {
    const video = join(ROOT, "testdata/containers/ts-mpeg2.ts");
    const first = await sendToBob(cluster(), video, ["--protection", "seed"]);
    expect(first.code).toBe(0);
    expect(summaryOf(first.stdout)).toMatchObject({ ok: true, route: "split" });
    expect(summaryOf(first.stdout).alreadyHeld).toBeUndefined();
    const again = await sendToBob(cluster(), video, ["--protection", "seed"]);
    expect(again.code).toBe(0);
    // The split parts are merged and verified before the library is asked: the merged copy is the one that goes.
    expect(summaryOf(again.stdout)).toMatchObject({ ok: true, route: "split", alreadyHeld: true });
    const secret = await sendToBob(cluster(), video, ["--secret"]);
    expect(secret.code).toBe(0);
    expect(summaryOf(secret.stdout)).toMatchObject({ ok: true, alreadyHeld: true });
    const sha = summaryOf(first.stdout).sha256;
    const held = (await libraryOf(cluster(), "bob")).filter((r) => r.sha256 === sha);
    expect(held).toHaveLength(1);
    const rec = held[0] as { path: string; secret: boolean };
    expect(rec.secret).toBe(true);
    expect(statSync(rec.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(rec.path)).toEqual(readFileSync(video));
  });
  test("a resend through the relay only (no direct channel, so no RECEIPT) is told by the callee's session end", async () => {
    const file = join(cluster().root, "fallback.bin");
    writeFileSync(file, randomBytes(30_000));
    const first = await sendToBob(cluster(), file);
    expect(summaryOf(first.stdout)).toMatchObject({ ok: true });
    // A port nothing listens on: the direct dial is refused and everything goes sealed through the node.
    const again = await sendToBob(cluster(), file, ["--direct", "127.0.0.1:1"]);
    expect(again.code).toBe(0);
    const summary = summaryOf(again.stdout);
    expect(summary).toMatchObject({ ok: true, fallback: true, alreadyHeld: true });
    expect(summary.message).toContain("nothing new was filed");
    const held = (await libraryOf(cluster(), "bob")).filter((r) => r.sha256 === summary.sha256);
    expect(held.map((r) => r.name)).toEqual(["fallback.bin"]);
  });
});
