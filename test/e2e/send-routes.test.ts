/** @module End to end, compiled binary: a permitted send of each attribute kind, byte-identical, with the split observed on the wire. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { contains, gaps, protectedRangesOf, windowsInside } from "../support/byte-windows.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, sizeOf, startAliceAndBob } from "../support/e2e-stage.ts";
import { incomingLeftovers, sha256File, spoolFiles } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob();
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/**
 * Sends FILE from alice to bob with the direct channel dialled through a recording tap, and alice's requests to
 * the node through another: `toNode` is everything the node was sent (the callee acks a live transfer once it
 * has filed the recording, so the spool file itself is gone by the time the send returns).
 */
async function sendThroughTap(file: string, extra: string[] = []) {
  const bob = cluster.recorder("bob");
  await using tap = await Tap.start(bob.direct);
  await using nodeTap = await Tap.start(cluster.http);
  const run = await sendToBob(cluster, file, [
    "--direct",
    `127.0.0.1:${tap.port}`,
    "--node",
    `https://127.0.0.1:${nodeTap.port}`,
    ...extra,
  ]);
  return { run, summary: summaryOf(run.stdout), wire: tap.upstream(), toNode: nodeTap.upstream() };
}

/** The node deletes each transfer once bob has acked it: the spool ends empty after a live send. */
async function expectSpoolEmptied(ids: string[]): Promise<void> {
  await waitFor(
    `the spool to drop ${ids.join(", ")}`,
    async () => {
      const files = await spoolFiles(cluster.nodeDataDir);
      return ids.every((id) => !files.has(id));
    },
    { intervalMs: 100 },
  );
  expect((await cluster.admin.spool()).files).toBe(0);
}

async function expectFiledIdentical(file: string, sha: string) {
  const entry = (await libraryOf(cluster, "bob")).find((r) => r.sha256 === sha);
  expect(entry).toBeDefined();
  expect(entry?.sender).toBe("alice");
  expect(await sha256File(entry?.path ?? "")).toBe(await sha256File(file));
  expect(await incomingLeftovers(cluster.recorder("bob").dataDir)).toEqual([]);
}

describe("permitted sends, one per attribute kind", () => {
  const videos = [
    { kind: "MPEG-2 video ES", file: join(ROOT, "testdata/es/mpeg2-gop15.m2v"), type: "es" },
    { kind: "MPEG-2 Transport Stream", file: join(ROOT, "testdata/containers/ts-mpeg2.ts"), type: "ts" },
  ];
  for (const v of videos) {
    test(`send splits a ${v.kind}: I-pictures only sealed through the node, P/B pictures in clear on the direct socket`, async () => {
      const bytes = new Uint8Array(await readFile(v.file));
      const { ranges, iPictures } = protectedRangesOf(bytes);
      expect(iPictures).toBeGreaterThan(0);
      const { run, summary, wire, toNode } = await sendThroughTap(v.file, ["--protection", "seed"]);
      expect(run.code).toBe(0);
      expect(summary.ok).toBe(true);
      expect(summary.route).toBe("split");
      expect(summary.fallback).toBe(false);
      expect(summary.iPictures).toBe(iPictures);
      expect(summary.protection).toBe("seed");
      await expectFiledIdentical(v.file, summary.sha256);

      const iWindows = windowsInside(bytes, ranges, 12);
      const pbWindows = windowsInside(
        bytes,
        gaps(bytes.length, ranges),
        12,
        24,
        Buffer.concat(ranges.map((r) => bytes.subarray(r.offset, r.offset + r.length))),
      );
      expect(iWindows.length).toBeGreaterThanOrEqual(6);
      expect(pbWindows.length).toBeGreaterThanOrEqual(6);
      // The direct socket: every sampled P/B window in clear, no sampled I-picture window at all.
      for (const w of pbWindows) expect(contains(wire, w)).toBe(true);
      for (const w of iWindows) expect(contains(wire, w)).toBe(false);
      // What the node was sent: one transfer, at least the sealed protected part's size, and only ciphertext;
      // bob acks it after filing, so the node deletes it at once.
      expect(summary.transfers.length).toBe(1);
      expect(toNode.length).toBeGreaterThan(summary.bytesRelay);
      for (const w of [...iWindows, ...pbWindows]) expect(contains(toNode, w)).toBe(false);
      await expectSpoolEmptied(summary.transfers);
      const protectedBody = ranges.reduce((n, r) => n + r.length, 0);
      expect(summary.bytesRelayPayload).toBeGreaterThan(protectedBody);
      expect(summary.bytesRelay).toBeGreaterThan(summary.bytesRelayPayload);
      expect(summary.bytesDirect).toBeGreaterThan(bytes.length - protectedBody);
    });
  }

  test("send of a secret recording puts nothing of it on the direct socket and only ciphertext on the node", async () => {
    const file = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
    const bytes = new Uint8Array(await readFile(file));
    const { run, summary, wire, toNode } = await sendThroughTap(file, ["--secret"]);
    expect(run.code).toBe(0);
    expect(summary.route).toBe("secret");
    expect(summary.bytesDirect).toBe(0);
    await expectFiledIdentical(file, summary.sha256);
    const entry = (await libraryOf(cluster, "bob")).find((r) => r.sha256 === summary.sha256);
    expect(entry?.secret).toBe(true);
    const windows = windowsInside(bytes, [{ offset: 0, length: bytes.length }], 12, 24, Buffer.alloc(0));
    for (const w of windows) expect(contains(wire, w)).toBe(false);
    expect(toNode.length).toBeGreaterThan(summary.bytesRelay);
    for (const w of windows) expect(contains(toNode, w)).toBe(false);
    await expectSpoolEmptied(summary.transfers);
  });

  const dataCases = [
    { mode: "sealed (the default)", flags: [], protection: "sealed" as const, readable: false },
    { mode: "seed (light)", flags: ["--protection", "seed"], protection: "seed" as const, readable: true },
  ];
  for (const c of dataCases) {
    test(`send of a data file in ${c.mode} mode goes wholly direct, ${c.readable ? "readable on the wire (clear, authenticated frames)" : "sealed on the wire"}, nothing via the node`, async () => {
      const file = join(cluster.root, `notes-${c.protection}.bin`);
      await writeFile(file, randomBytes(300_000));
      const bytes = new Uint8Array(await readFile(file));
      const { run, summary, wire } = await sendThroughTap(file, c.flags);
      expect(run.code).toBe(0);
      expect(summary.route).toBe("data");
      expect(summary.protection).toBe(c.protection);
      expect(summary.bytesRelay).toBe(0);
      expect(summary.transfers).toEqual([]);
      expect(summary.bytesDirect).toBe(bytes.length);
      await expectFiledIdentical(file, summary.sha256);
      const windows = windowsInside(bytes, [{ offset: 0, length: bytes.length }], 12, 24, Buffer.alloc(0));
      for (const w of windows) expect(contains(wire, w)).toBe(c.readable);
      // Authenticated, not just framed: the wire carries a 16-byte tag per frame on top of the bytes.
      expect(wire.length).toBeGreaterThan(bytes.length + 16);
      expect(await sizeOf(file)).toBe(bytes.length);
    });
  }

  test("send of a video by default seals its direct part: no P/B byte readable on the direct socket, byte-identical", async () => {
    const file = join(ROOT, "testdata/containers/ts-mpeg2.ts");
    const bytes = new Uint8Array(await readFile(file));
    const { ranges } = protectedRangesOf(bytes);
    const { run, summary, wire } = await sendThroughTap(file);
    expect(run.code).toBe(0);
    expect(summary.route).toBe("split");
    expect(summary.protection).toBe("sealed");
    await expectFiledIdentical(file, summary.sha256);
    // The same P/B windows that the seed-mode test above finds on the wire.
    const protectedBytes = Buffer.concat(ranges.map((r) => bytes.subarray(r.offset, r.offset + r.length)));
    const windows = windowsInside(bytes, gaps(bytes.length, ranges), 12, 24, protectedBytes);
    expect(windows.length).toBeGreaterThanOrEqual(6);
    for (const w of windows) expect(contains(wire, w)).toBe(false);
    const protectedBody = ranges.reduce((n, r) => n + r.length, 0);
    expect(summary.bytesDirect).toBeGreaterThan(bytes.length - protectedBody);
  });

  for (const asked of ["seed", "pattern"]) {
    test(`send in ${asked} mode falls back to the relay for everything when the direct dial fails, and says it went sealed`, async () => {
      const file = join(ROOT, "testdata/es/mpeg2-closed-gop.m2v");
      // A port nothing listens on: connect refused.
      const run = await sendToBob(cluster, file, ["--direct", "127.0.0.1:1", "--protection", asked]);
      const summary = summaryOf(run.stdout);
      expect(run.code).toBe(0);
      expect({ fallback: summary.fallback, protection: summary.protection }).toEqual({
        fallback: true,
        protection: "sealed",
      });
      expect(run.stdout).toContain("sending everything through the node, encrypted");
      expect(summary.bytesDirect).toBe(0);
      expect(summary.transfers.length).toBe(2);
      await expectFiledIdentical(file, summary.sha256);
      await expectSpoolEmptied(summary.transfers);
    });
  }
});
