/** @module The secret attribute follows the content by SHA-256: however a secret recording is named, nothing of it reaches the direct channel. */
import { describe, expect, test } from "bun:test";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { contains } from "../support/byte-windows.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { sendToBob } from "../support/e2e-stage.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";

const cluster = aliceAndBobStage();

const SOURCE = join(ROOT, "testdata/containers/ps-mpeg2.mpg");

/** 64 windows of 24 bytes spread evenly over the file: what an eavesdropper would find of it. */
async function windowsOf(path: string): Promise<Buffer[]> {
  const bytes = await readFile(path);
  return Array.from({ length: 64 }, (_, k) => {
    const at = Math.floor((k * (bytes.length - 24)) / 63);
    return bytes.subarray(at, at + 24);
  });
}

/** How the item is named at send: the added file, its library ID, or another copy of the same bytes. */
type Naming = "path" | "id" | "copy";

/** Alice copies SOURCE, adds it to her library with `add` (null: not at all), then sends it as `naming` says. */
async function addThenSend(add: string[] | null, naming: Naming, send: string[], source = SOURCE) {
  const file = join(cluster().root, `holiday-${crypto.randomUUID()}.mpg`);
  await copyFile(source, file);
  let target = file;
  if (add !== null) {
    const added = await cluster().recorderRun("alice", ["library", "add", file, ...add]);
    expect(added.code).toBe(0);
    if (naming === "id") target = added.stdout.split("\t")[0] as string;
  }
  if (naming === "copy") {
    target = file.replace(/\.mpg$/, "-another-name.mpg");
    await copyFile(file, target);
  }
  await using tap = await Tap.start(cluster().recorder("bob").direct);
  const run = await sendToBob(cluster(), target, ["--direct", `127.0.0.1:${tap.port}`, ...send]);
  return { run, wire: tap.upstream() };
}

describe("send: the secret attribute follows the content", () => {
  const secretCases: [string, string[] | null, Naming, string[]][] = [
    ["library add x --secret, then send x", ["--secret"], "path", []],
    ["library add x --secret, then send ID", ["--secret"], "id", []],
    ["library add x --secret, then send a copy of x under another name", ["--secret"], "copy", []],
    ["send --secret of a file the library does not hold", null, "path", ["--secret"]],
    ["library add x (not secret), then send x --secret", [], "path", ["--secret"]],
  ];
  for (const [name, add, naming, send] of secretCases) {
    test(`${name} sends it secret: no window of it on the direct channel`, async () => {
      const { run, wire } = await addThenSend(add, naming, send);
      expect(run.code).toBe(0);
      if (naming === "copy") expect(run.stdout).toContain("in the library (same SHA-256)");
      const summary = summaryOf(run.stdout);
      expect(summary.route).toBe("secret");
      expect(summary.bytesDirect).toBe(0);
      for (const w of await windowsOf(SOURCE)) expect(contains(wire, w)).toBe(false);
    });
  }

  // Other content: a copy of SOURCE was marked secret above, and that now makes SOURCE secret however sent.
  test("library add y (not secret), then send y splits it: P/B bytes do reach the direct channel", async () => {
    const other = join(ROOT, "testdata/containers/ps-mpeg1.mpg");
    const { run, wire } = await addThenSend(["--protection", "seed"], "path", [], other);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout).route).toBe("split");
    expect((await windowsOf(other)).some((w) => contains(wire, w))).toBe(true);
  });
});
