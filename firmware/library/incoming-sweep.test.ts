/** @module Tests for sweepIncoming(): temp files of writers killed mid-write go at the next open; a live writer's stay. */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepIncoming, UNOWNED_PART_MAX_AGE_MS } from "./incoming-sweep.ts";
import { Library } from "./library.ts";

const LIBRARY = join(import.meta.dir, "library.ts");
const INCOMING = join(import.meta.dir, "../recorder/incoming-file.ts");

test("Library.open() removes the .part file of a receiver killed (-9) mid-write, keeps a live writer's (issue 21 item 11)", async () => {
  const root = mkdtempSync(join(tmpdir(), "pvrlink-incoming-"));
  try {
    // A real receiver-like process: opens the library, writes 1 MiB into an incoming file, then hangs.
    const script = `
      const { Library } = await import(${JSON.stringify(LIBRARY)});
      const { IncomingFile } = await import(${JSON.stringify(INCOMING)});
      const lib = await Library.open(${JSON.stringify(join(root, "data"))}, ${JSON.stringify(join(root, "lib"))});
      const f = await IncomingFile.create(lib.incomingPath());
      await f.write(new Uint8Array(1 << 20));
      console.log(f.path);
      await new Promise(() => {});`;
    const start = () => Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "inherit" });
    const pathOf = async (p: ReturnType<typeof start>) => {
      const reader = p.stdout.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      return new TextDecoder().decode(value).trim();
    };
    const live = start();
    try {
      const livePath = await pathOf(live);
      const crashed = start();
      const crashedPath = await pathOf(crashed);
      crashed.kill("SIGKILL");
      await crashed.exited;
      expect([existsSync(crashedPath), existsSync(livePath)]).toEqual([true, true]);
      using _lib = await Library.open(join(root, "data"), join(root, "lib"));
      expect([existsSync(crashedPath), existsSync(livePath)]).toEqual([false, true]);
    } finally {
      live.kill("SIGKILL");
      await live.exited;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("sweepIncoming() removes .part files without a writer pid only once they are a day old, and nothing else", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-incoming-"));
  try {
    for (const name of ["old.part", "fresh.part", "keep.txt"]) writeFileSync(join(dir, name), "x");
    const old = (Date.now() - UNOWNED_PART_MAX_AGE_MS - 60_000) / 1000;
    utimesSync(join(dir, "old.part"), old, old);
    utimesSync(join(dir, "keep.txt"), old, old);
    expect(await sweepIncoming(dir)).toEqual(["old.part"]);
    expect(readdirSync(dir).sort()).toEqual(["fresh.part", "keep.txt"]);
    expect(await sweepIncoming(join(dir, "missing"))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
