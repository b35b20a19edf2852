/** @module Tests for `pvrlink library`: add, list, remove, protection choice and config errors. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const main = join(import.meta.dir, "../../bin/pvrlink.ts");
const fixture = join(import.meta.dir, "../../testdata/containers/ts-mpeg2.ts");
const dir = mkdtempSync(join(tmpdir(), "pvrlink-libcmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real CLI entry point in a child process with its own data dir. */
async function pvrlink(...args: string[]) {
  const p = Bun.spawn([process.execPath, main, "library", ...args, "--data", join(dir, "data")], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, PVRLINK_DATA: join(dir, "unused") },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { stdout, stderr, code };
}

describe("pvrlink library", () => {
  test("export copies a recording under its name, never overwrites, and list shows the library path", async () => {
    const added = await pvrlink("add", fixture, "--name", "holiday.ts");
    const id = added.stdout.split("\t")[0]!;
    const out = join(dir, "exported");
    mkdirSync(out);
    const first = await pvrlink("export", id, out);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "holiday.ts"))).toEqual(readFileSync(fixture));
    const again = await pvrlink("export", id, out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(ERR_LIBRARY_EXPORT_EXISTS)");
    const unknown = await pvrlink("export", "rec_nope", out);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("(ERR_LIBRARY_UNKNOWN_ID)");
    const listed = JSON.parse((await pvrlink("list", "--json")).stdout) as Array<{
      id: string;
      path: string;
    }>;
    const path = listed.find((r) => r.id === id)!.path;
    expect(path.endsWith(`${id}-holiday.ts`)).toBe(true);
    expect((await pvrlink("list")).stdout).toContain(path);
    expect((await pvrlink("export", id)).code).toBe(2);
    expect((await pvrlink("remove", id)).code).toBe(0);
  });
  test("add, list --json, list and remove", async () => {
    const added = await pvrlink("add", fixture, "--secret", "--name", "Match of the day");
    expect(added.code).toBe(0);
    const id = added.stdout.split("\t")[0]!;
    expect(added.stdout).toContain("\tts\tsecret\tsealed\t");
    const json = await pvrlink("list", "--json");
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id,
      name: "Match of the day",
      type: "ts",
      secret: true,
      protection: "sealed",
      origin: "local",
    });
    const table = await pvrlink("list");
    expect(table.stdout).toContain("Match of the day");
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+TYPE\s+SECRET/);
    expect((await pvrlink("remove", id)).code).toBe(0);
    expect(JSON.parse((await pvrlink("list", "--json")).stdout)).toEqual([]);
  });
  test("add --protection seed keeps a video in seed mode; list shows it", async () => {
    const added = await pvrlink("add", fixture, "--protection", "seed");
    expect(added.code).toBe(0);
    const id = added.stdout.split("\t")[0]!;
    const list = JSON.parse((await pvrlink("list", "--json")).stdout) as Array<{
      id: string;
      protection: string;
    }>;
    expect(list.find((r) => r.id === id)?.protection).toBe("seed");
    expect((await pvrlink("list")).stdout).toMatch(/\sseed\s/);
    expect((await pvrlink("remove", id)).code).toBe(0);
  });
  const cases: Array<[string, string[], number, RegExp]> = [
    ["no action", [], 2, /missing action/],
    ["an unknown action", ["play"], 2, /unknown action 'play'/],
    ["add without a file", ["add"], 2, /exactly one FILE/],
    ["--json on add", ["add", fixture, "--json"], 2, /--json does not apply/],
    [
      "an unknown protection",
      ["add", fixture, "--protection", "strong"],
      2,
      /expected sealed, seed, pattern/,
    ],
    ["--protection on list", ["list", "--protection", "seed"], 2, /--protection does not apply/],
    ["an unknown flag", ["list", "--colour"], 2, /Unknown option/],
    ["a missing file", ["add", join(dir, "missing.ts")], 1, /ERR_LIBRARY_NO_FILE/],
    ["an unknown id", ["remove", "rec_doesnotexist"], 1, /ERR_LIBRARY_UNKNOWN_ID/],
  ];
  for (const [what, args, code, msg] of cases) {
    test(`exits ${code} on ${what}`, async () => {
      const r = await pvrlink(...args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(msg);
    });
  }
  test("exits 1 on a broken config file", async () => {
    const cfg = join(dir, "bad.json");
    writeFileSync(cfg, "{");
    const r = await pvrlink("list", "--config", cfg);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_CONFIG_FILE");
  });
});
