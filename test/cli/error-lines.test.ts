/** @module Failures of the real binary end in one line with a code and a next step, never a stack trace; send --json ends with a summary. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runPvrlink } from "../support/pvrlink-process.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-errors-"));
const data = join(work, "data");
const file = join(work, "x.mpg");
let busy: Server;
let busyPort = 0;

beforeAll(async () => {
  copyFileSync(join(ROOT, "testdata/containers/ps-mpeg1.mpg"), file);
  // A credential naming a node that is down: port 1 on loopback refuses every connection.
  const cred = await runPvrlink([
    "control",
    "enroll",
    "box",
    "--data",
    join(work, "node"),
    "--public-url",
    "https://127.0.0.1:1",
  ]);
  expect(cred.code).toBe(0);
  writeFileSync(join(work, "box.json"), cred.stdout);
  expect(
    (await runPvrlink(["recorder", "enroll", "--credential", join(work, "box.json"), "--data", data])).code,
  ).toBe(0);
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => {
  busy?.close();
  rmSync(work, { recursive: true, force: true });
});

/** One line on stderr: the command, a message, "(CODE)", a next step; nothing like a stack frame. */
function expectOneLine(stderr: string, code: string): void {
  const lines = stderr
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("x.mpg: "));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^pvrlink \\w+: Cannot .+ \\(${code}\\); .+`));
  expect(stderr).not.toMatch(/^\s+at |Bun v\d|\d+ \| /m);
}

describe("one-line errors", () => {
  const cases: [string, () => string[], string][] = [
    ["send with the node down", () => ["send", file, "--to", "bob", "--data", data], "ECONNREFUSED"],
    [
      "control serve on a busy port",
      () => [
        "control",
        "serve",
        "--data",
        join(work, "n2"),
        "--http",
        `127.0.0.1:${busyPort}`,
        "--udp",
        "127.0.0.1:0",
      ],
      "EADDRINUSE",
    ],
    [
      "recorder run --listen on a busy port",
      () => ["recorder", "run", "--data", data, "--listen", `127.0.0.1:${busyPort}`],
      "EADDRINUSE",
    ],
  ];
  for (const [name, args, code] of cases) {
    test(`${name} exits 1 with one line: ${code} and the next step`, async () => {
      const r = await runPvrlink(args());
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, code);
    });
  }

  test("send --json with the node down ends with a summary event carrying the code", async () => {
    const r = await runPvrlink(["send", file, "--to", "bob", "--data", data, "--json"]);
    expect(r.code).toBe(1);
    const last = JSON.parse(r.stdout.trimEnd().split("\n").at(-1) as string);
    expect(last).toMatchObject({ event: "summary", ok: false, code: "ECONNREFUSED" });
    expect(last.next).toContain("control node");
  });

  test("send --json of a missing file still ends with a summary event", async () => {
    const r = await runPvrlink(["send", join(work, "missing.mpg"), "--to", "bob", "--data", data, "--json"]);
    expect(r.code).toBe(1);
    const last = JSON.parse(r.stdout.trimEnd().split("\n").at(-1) as string);
    expect(last).toMatchObject({ event: "summary", ok: false, code: "ERR_SEND_NO_FILE" });
  });
});
