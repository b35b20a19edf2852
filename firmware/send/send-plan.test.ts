/** @module Route choice by attribute and pass 1 of a send on real fixtures. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { mergeBytes } from "../../codec/split/split-bytes.ts";
import type { RecordingType } from "../library/detect-recording-type.ts";
import { PlanSpillFiles } from "./plan-spill-file.ts";
import { planSend, routeFor, type SendRoute } from "./send-plan.ts";

const ROOT = join(import.meta.dir, "../..");

describe("routeFor()", () => {
  const table: Array<[RecordingType, boolean, SendRoute]> = [
    ["es", false, "split"],
    ["ps", false, "split"],
    ["ts", false, "split"],
    ["m2ts", false, "split"],
    ["mp4", false, "split"],
    ["data", false, "data"],
    ["es", true, "secret"],
    ["ts", true, "secret"],
    ["data", true, "secret"],
  ];
  for (const [type, secret, route] of table) {
    test(`routeFor() sends ${secret ? "secret " : ""}${type} by the ${route} route`, () => {
      expect(routeFor(type, secret)).toBe(route);
    });
  }
});

async function plan(path: string, known: Parameters<typeof planSend>[2] = {}) {
  await using h = await open(path);
  return await planSend(h, path, known);
}

describe("planSend()", () => {
  for (const fixture of ["es/mpeg2-gop15.m2v", "containers/ts-mpeg2.ts", "containers/ps-mpeg2.mpg"]) {
    test(`planSend() splits ${fixture} into parts that merge back byte-exact`, async () => {
      const path = join(ROOT, "testdata", fixture);
      const bytes = new Uint8Array(await readFile(path));
      const p = await plan(path);
      expect(p.route).toBe("split");
      expect(p.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      const s = p.split;
      if (!s) throw new Error("no split");
      expect(s.iPictures).toBeGreaterThan(0);
      // Route the file as pass 2 does and merge the two parts with the codec: the original comes back.
      const router = new RangeRouter(s.ranges, bytes.length);
      const routed = router.push(bytes);
      const prot = Buffer.concat([s.protectedHeader, ...routed.protected]);
      const direct = Buffer.concat([s.directHeader, ...routed.direct]);
      expect(prot.length).toBe(s.protectedSize);
      expect(direct.length).toBe(s.directSize);
      expect(Buffer.compare(mergeBytes({ protected: prot, direct }).bytes, bytes)).toBe(0);
    });
  }

  test("planSend() takes a file with no video as data and a secret one as secret", async () => {
    const path = join(tmpdir(), `pvrlink-plan-${process.pid}.txt`);
    await writeFile(path, "just some notes\n".repeat(1000));
    try {
      expect((await plan(path)).route).toBe("data");
      const secret = await plan(path, { secret: true, name: "notes" });
      expect(secret.route).toBe("secret");
      expect(secret.name).toBe("notes");
      expect(secret.split).toBeUndefined();
    } finally {
      await rm(path, { force: true });
    }
  });
});

describe("planSend() with a plan spill", () => {
  for (const fixture of ["es/mpeg2-gop15.m2v", "es/mpeg2-gop12.m2v", "containers/ts-mpeg2.ts"]) {
    test(`planSend() plans ${fixture} in pattern mode to the same rows with its tables in spill files`, async () => {
      const path = join(ROOT, "testdata", fixture);
      const inMemory = await plan(path, { protection: "pattern" });
      using spill = new PlanSpillFiles(tmpdir());
      const spilled = await plan(path, { protection: "pattern", spill });
      const a = inMemory.split!.pattern!;
      const b = spilled.split!.pattern!;
      // An ES plans version 1's rows (the spilled tables); a TS plans in ES coordinates, in memory.
      if (fixture.startsWith("es/")) expect(b.ranges.count).toBeGreaterThan(0);
      expect(b.ranges.toArray()).toEqual(a.ranges.toArray());
      expect([b.encryptedBytes, b.es?.slices.count]).toEqual([a.encryptedBytes, a.es?.slices.count]);
    });
  }
});
