/** @module The scenario stage itself: it fails loudly without the binary, and leaves no namespace or process behind when a scenario throws. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { listNamespaces } from "../ns-admin.ts";
import { binary, Scenario } from "./scenario-kit.ts";

const saved = process.env.PVRLINK_BIN;

afterEach(() => {
  if (saved === undefined) delete process.env.PVRLINK_BIN;
  else process.env.PVRLINK_BIN = saved;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("scenario stage", () => {
  test("binary() names the missing compiled binary and how to build it instead of skipping", () => {
    process.env.PVRLINK_BIN = "/nonexistent/pvrlink-linux-x64";
    expect(() => binary()).toThrow(
      /need the compiled binary \/nonexistent\/pvrlink-linux-x64: run 'bun scripts\/build.ts x64'/,
    );
  });

  test("Scenario.start() without the binary rejects before building a bed", async () => {
    process.env.PVRLINK_BIN = "/nonexistent/pvrlink-linux-x64";
    const before = await listNamespaces();
    await expect(Scenario.start()).rejects.toThrow(/need the compiled binary/);
    expect(await listNamespaces()).toEqual(before);
  });

  test("a scenario that throws after starting its node and a recorder leaves no namespace, process or data dir", async () => {
    let namespaces: string[] = [];
    let pids: number[] = [];
    let root = "";
    const run = async () => {
      await using s = await Scenario.start();
      const rec = await s.addRecorder("carol", 1);
      namespaces = s.bed.namespaces;
      pids = [s.node.pid, rec.proc.pid];
      root = s.root;
      expect(pids.every(alive)).toBe(true);
      throw new Error("scenario failed on purpose");
    };
    const err = await run().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toBe("scenario failed on purpose");
    const left = await listNamespaces();
    expect(namespaces.length).toBe(5);
    expect(namespaces.filter((n) => left.includes(n))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  }, 30_000);
});
