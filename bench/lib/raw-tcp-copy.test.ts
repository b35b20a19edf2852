import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawTcpCopy } from "./raw-tcp-copy.ts";

describe("rawTcpCopy()", () => {
  const cases = [
    {
      name: "copies a file of several chunks to a sink that discards it",
      bytes: 9 * 1024 * 1024 + 17,
      toFile: false,
    },
    { name: "copies an empty file", bytes: 0, toFile: false },
    {
      name: "writes what it copies to the given file, byte for byte",
      bytes: 5 * 1024 * 1024 + 3,
      toFile: true,
    },
  ];
  for (const c of cases)
    test(`rawTcpCopy() ${c.name}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "raw-tcp-copy-"));
      try {
        const source = new Uint8Array(c.bytes);
        for (let at = 0; at < c.bytes; at += 65536) crypto.getRandomValues(source.subarray(at, at + 65536));
        const path = join(dir, "in.bin");
        await writeFile(path, source);
        const out = join(dir, "out.bin");
        const r = await rawTcpCopy(path, c.toFile ? { toFile: out } : {});
        expect(r.bytes).toBe(c.bytes);
        expect(r.seconds).toBeGreaterThanOrEqual(0);
        if (c.toFile) expect(Buffer.compare(await readFile(out), Buffer.from(source))).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
});
