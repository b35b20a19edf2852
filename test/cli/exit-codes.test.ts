/** @module Exit codes and one-line errors of the real binary: 0 ok, 1 bad input, 2 bad usage; no half-written output. */
import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPvrlink, testRecordings } from "../support/pvrlink-process.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-exit-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const recording = testRecordings().find((p) => p.endsWith(".ts"))!;

describe("pvrlink usage", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["no command", [], 2, /Usage: pvrlink/],
    ["an unknown command", ["bogus"], 2, /unknown command 'bogus'/],
    ["inspect without FILE", ["inspect"], 2, /expected one FILE/],
    ["inspect with two files", ["inspect", "a", "b"], 2, /expected one FILE/],
    ["inspect with an unknown flag", ["inspect", "--bogus", "a"], 2, /bogus/],
    ["split without --out", ["split", "a"], 2, /--out DIR is required/],
    ["split with --out but no value", ["split", "a", "--out"], 2, /out/],
    ["merge without --out", ["merge", "d"], 2, /--out FILE is required/],
    ["merge without DIR", ["merge", "--out", "f"], 2, /expected one DIR/],
  ];
  for (const [name, args, code, message] of cases) {
    test(`pvrlink ${args.join(" ")} exits ${code} on ${name}`, async () => {
      const r = await runPvrlink(args);
      expect(r.code).toBe(code);
      expect(r.stdout + r.stderr).toMatch(message);
    });
  }

  for (const cmd of ["inspect", "split", "merge"]) {
    test(`pvrlink ${cmd} --help prints its usage and exits 0`, async () => {
      const r = await runPvrlink([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: pvrlink ${cmd}`);
      expect(r.stdout).toContain("Exit codes");
    });
  }

  test("pvrlink --version prints the package version", async () => {
    const r = await runPvrlink(["--version"]);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "..", "..", "package.json"), "utf8"));
    expect(r.stdout.trim()).toBe(`pvrlink ${pkg.version}`);
  });
});

/** Makes DIR with a good split of the recording, then lets the case damage it. */
async function partsDir(name: string): Promise<string> {
  const dir = join(work, name);
  const r = await runPvrlink(["split", recording, "--out", dir]);
  expect(r.code).toBe(0);
  return dir;
}

function edit(path: string, f: (b: Buffer) => Buffer): void {
  writeFileSync(path, f(readFileSync(path)));
}

function flip(b: Buffer, at: number): Buffer {
  b[at] = b[at]! ^ 0x04;
  return b;
}

describe("pvrlink bad input", () => {
  test("inspect of a missing file exits 1 with ERR_FILE_READ on one line", async () => {
    const r = await runPvrlink(["inspect", join(work, "missing.ts")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("(ERR_FILE_READ)");
  });

  const notMedia: [string, string | Uint8Array][] = [
    ["a text file", "hello, these are my notes\n"],
    ["an empty file", new Uint8Array(0)],
    ["random bytes without a start code", new Uint8Array(4096).map((_, i) => (i * 37 + 11) & 0x7f)],
  ];
  for (const [name, content] of notMedia) {
    test(`inspect of ${name} exits 1 with ERR_NOT_MEDIA on one line, as ffprobe exits 1`, async () => {
      const file = join(work, `not-media-${name.replaceAll(" ", "-")}`);
      writeFileSync(file, content);
      for (const args of [[file], [file, "--json"]]) {
        const r = await runPvrlink(["inspect", ...args]);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(
          /^pvrlink inspect: Cannot inspect .*: not an MPEG recording .*\(ERR_NOT_MEDIA\)\n$/,
        );
      }
    });
  }

  test("inspect of a directory exits 1 with ERR_FILE_TYPE", async () => {
    const r = await runPvrlink(["inspect", work]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(ERR_FILE_TYPE)");
  });

  test("split into a path under a file exits 1 with ERR_OUTPUT", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    const r = await runPvrlink(["split", recording, "--out", join(file, "sub")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(ERR_OUTPUT)");
  });

  const damaged: [string, (dir: string) => void, string][] = [
    ["a missing direct part", (d) => rmSync(join(d, "direct")), "ERR_FILE_READ"],
    ["a part that is not a part", (d) => writeFileSync(join(d, "protected"), "hello"), "ERR_SPLIT_MAGIC"],
    [
      "a flipped direct body byte",
      (d) => edit(join(d, "direct"), (b) => flip(b, b.length - 100)),
      "ERR_SPLIT_INTEGRITY",
    ],
    [
      "a flipped header byte",
      (d) => edit(join(d, "protected"), (b) => flip(b, 20)),
      "ERR_SPLIT_HEADER_DIGEST",
    ],
    [
      "a truncated protected part",
      (d) => edit(join(d, "protected"), (b) => b.subarray(0, b.length - 1)),
      "ERR_SPLIT_TRUNCATED",
    ],
    [
      "a direct part with a byte appended",
      (d) => edit(join(d, "direct"), (b) => Buffer.concat([b, Buffer.of(0)])),
      "ERR_SPLIT_LENGTH",
    ],
    [
      "swapped parts",
      (d) => {
        const p = readFileSync(join(d, "protected"));
        writeFileSync(join(d, "protected"), readFileSync(join(d, "direct")));
        writeFileSync(join(d, "direct"), p);
      },
      "ERR_SPLIT_PAIR",
    ],
  ];
  for (const [name, damage, code] of damaged) {
    test(`merge of ${name} exits 1 with ${code} and leaves no output`, async () => {
      const dir = await partsDir(`m-${code}`);
      damage(dir);
      const out = join(work, `out-${code}`);
      writeFileSync(out, "previous content");
      const r = await runPvrlink(["merge", dir, "--out", out]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`(${code})`);
      // The old FILE is untouched and no temporary file is left beside it.
      expect(readFileSync(out, "utf8")).toBe("previous content");
      expect(readdirSync(work).filter((n) => n.includes(".tmp-"))).toEqual([]);
    });
  }

  test("merge into a missing directory exits 1 with ERR_OUTPUT and creates nothing", async () => {
    const dir = await partsDir("m-output");
    const out = join(work, "no-such-dir", "x");
    const r = await runPvrlink(["merge", dir, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(ERR_OUTPUT)");
    expect(existsSync(join(work, "no-such-dir"))).toBe(false);
  });

  test("merge onto an existing directory exits 1 with ERR_OUTPUT and leaves no temporary file", async () => {
    const dir = await partsDir("m-onto-dir");
    const out = join(work, "a-directory");
    mkdirSync(join(out, "inside"), { recursive: true });
    const r = await runPvrlink(["merge", dir, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(ERR_OUTPUT)");
    expect(readdirSync(work).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("split onto a DIR whose 'direct' is a non-empty directory exits 1 with ERR_OUTPUT, no temporary files", async () => {
    const dir = join(work, "blocked");
    mkdirSync(join(dir, "direct", "inside"), { recursive: true });
    const r = await runPvrlink(["split", recording, "--out", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(ERR_OUTPUT)");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("split leaves exactly protected and direct in DIR", async () => {
    const dir = join(work, "exact");
    mkdirSync(dir);
    expect((await runPvrlink(["split", recording, "--out", dir])).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["direct", "protected"]);
  });
});
