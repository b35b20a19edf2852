/** @module The ARM64 binary under qemu gives the same inspect, split and merge output as the x64 binary. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARM64_BINARY, runPvrlink, testRecordings, X64_BINARY } from "../support/pvrlink-process.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-arm64-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// qemu needs about a second to start the 100 MB binary, so a handful of invocations: inspect on an ES with
// field pictures and on a TS, then split and merge of the TS.
const recordings = testRecordings();
const es =
  recordings.find((p) => p.endsWith("mpeg2-fields.m2v")) ?? recordings.find((p) => p.endsWith(".m2v"))!;
const ts = recordings.find((p) => p.endsWith("ts-mpeg2.ts")) ?? recordings.find((p) => p.endsWith(".ts"))!;

test("pvrlink inspect --json on ARM64 prints the same JSON as x64", async () => {
  for (const path of [es, ts]) {
    const [x64, arm] = await Promise.all([
      runPvrlink(["inspect", path, "--json"], X64_BINARY),
      runPvrlink(["inspect", path, "--json"], ARM64_BINARY),
    ]);
    expect(x64.code).toBe(0);
    expect(JSON.parse(x64.stdout).counts.pic).toBeGreaterThan(0);
    expect({ code: arm.code, stdout: arm.stdout, stderr: arm.stderr }).toEqual({
      code: 0,
      stdout: x64.stdout,
      stderr: "",
    });
  }
}, 60_000);

test("pvrlink split and merge on ARM64 write the same bytes as x64", async () => {
  const [x64, arm] = await Promise.all([
    runPvrlink(["split", ts, "--out", join(work, "x64")], X64_BINARY),
    runPvrlink(["split", ts, "--out", join(work, "arm64")], ARM64_BINARY),
  ]);
  expect([x64.code, arm.code, arm.stderr]).toEqual([0, 0, ""]);
  for (const part of ["protected", "direct"]) {
    expect(readFileSync(join(work, "arm64", part)).equals(readFileSync(join(work, "x64", part)))).toBe(true);
  }
  // ARM64 merges the parts x64 wrote: the format is the same on both ends of a transfer.
  const merged = await runPvrlink(["merge", join(work, "x64"), "--out", join(work, "merged")], ARM64_BINARY);
  expect([merged.code, merged.stderr]).toEqual([0, ""]);
  expect(readFileSync(join(work, "merged")).equals(readFileSync(ts))).toBe(true);
}, 60_000);
