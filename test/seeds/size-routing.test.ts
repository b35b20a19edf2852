/** @module End to end, compiled binary: seed A variation 10, the route chosen by size (a recorder's size rule). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { filedEntry, libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

/** The node's size threshold (S2202): nothing larger may go through it. */
const NODE_THRESHOLD = 200_000;

let cluster: Cluster;
let small: string;
let large: string;
let overThreshold: string;

beforeAll(async () => {
  cluster = await startAliceAndBob({ nodeConfig: { relayThresholdBytes: NODE_THRESHOLD } });
  small = join(cluster.root, "still.bin");
  large = join(cluster.root, "large.bin");
  overThreshold = join(cluster.root, "over.bin");
  await writeFile(small, randomBytes(20_000));
  await writeFile(large, randomBytes(150_000));
  await writeFile(overThreshold, randomBytes(NODE_THRESHOLD + 1));
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** Alice's send through a tap on bob's direct port, so the test sees what went directly. */
async function send(file: string, extra: string[]) {
  await using tap = await Tap.start(cluster.recorder("bob").direct);
  const run = await sendToBob(cluster, file, ["--direct", `127.0.0.1:${tap.port}`, ...extra]);
  return { run, summary: summaryOf(run.stdout), wire: tap.upstream() };
}

async function filedBy(file: string, sha: string): Promise<{ secret: boolean }> {
  const entry = await filedEntry(cluster, "bob", { sha256: sha });
  expect(await sha256File(entry.path)).toBe(await sha256File(file));
  return entry;
}

describe("routing by size (A variation 10)", () => {
  test("a small non-secret item under the size rule goes whole, sealed, through the node; the summary names the size rule", async () => {
    const { run, summary, wire } = await send(small, ["--sealed-below", "65536"]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, route: "small", rule: "size", bytesDirect: 0 });
    expect(summary.transfers.length).toBe(1);
    expect(summary.bytesRelayPayload).toBe(20_000);
    // Nothing of it crossed the direct socket: the handshake and a few sealed frames only.
    expect(wire.length).toBeLessThan(4096);
    expect((await filedBy(small, summary.sha256)).secret).toBe(false);
    expect(run.stdout).toContain("below the size rule");
  });

  test("the text summary says which rule chose the route", async () => {
    const alice = cluster.recorder("alice").dataDir;
    const run = await cluster.run(["send", small, "--to", "bob", "--sealed-below", "65536", "--data", alice]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("route small");
    expect(run.stdout).toContain("route chosen by the size rule");
  });

  test("a large non-secret item over the size rule goes directly; the summary names the type rule", async () => {
    const { run, summary } = await send(large, ["--sealed-below", "65536"]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, route: "data", rule: "type", bytesRelay: 0 });
    expect(summary.bytesDirect).toBe(150_000);
    await filedBy(large, summary.sha256);
  });

  test("a large video over the size rule is split (I-pictures through the node, the rest directly)", async () => {
    const video = join(import.meta.dir, "../../testdata/es/mpeg2-gop15.m2v");
    const { run, summary } = await send(video, ["--sealed-below", "1000"]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, route: "split", rule: "type" });
    expect(summary.bytesDirect).toBeGreaterThan(0);
    expect(summary.bytesRelay).toBeGreaterThan(0);
  });

  test("a secret item goes through the node whatever its size; the summary names the secret rule", async () => {
    const { run, summary } = await send(large, ["--sealed-below", "1000", "--secret"]);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, route: "secret", rule: "secret", bytesDirect: 0 });
    expect((await filedBy(large, summary.sha256)).secret).toBe(true);
  });

  test("the node's threshold (S2202) still applies: a size rule above it is refused transfer_too_large", async () => {
    const { run, summary } = await send(overThreshold, ["--sealed-below", String(10 * NODE_THRESHOLD)]);
    expect(run.code).toBe(1);
    expect(summary).toMatchObject({ ok: false, route: "small", rule: "size" });
    expect(`${summary.code} ${summary.message}`).toContain("transfer_too_large");
  });

  test("the rule in the recorder's config file (sealedBelowBytes) applies to a library recording sent by its ID", async () => {
    const alice = cluster.recorder("alice");
    const configPath = join(alice.dataDir, "config.json");
    const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
    await writeFile(configPath, JSON.stringify({ ...config, sealedBelowBytes: 65536 }));
    await cluster.ok(["library", "add", small, "--name", "still-image", "--data", alice.dataDir]);
    const added = (await libraryOf(cluster, "alice")).find((r) => r.name === "still-image");
    if (!added) throw new Error("library add filed nothing");
    const { run, summary } = await send(added.id, []);
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ ok: true, route: "small", rule: "size" });
  });
});
