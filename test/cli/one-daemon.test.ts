/** @module One daemon per data directory, with the compiled binary: a second `recorder run` or `control serve` is refused; a killed one's lock is taken over. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { livePid } from "../../cli/pid-lock.ts";
import { requireBinary, runPvrlink, X64_BINARY } from "../support/pvrlink-process.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-one-daemon-"));
const data = join(work, "data");
const spawned: Bun.Subprocess[] = [];
afterAll(async () => {
  for (const p of spawned) p.kill("SIGKILL");
  await Promise.all(spawned.map((p) => p.exited));
  rmSync(work, { recursive: true, force: true });
});

beforeAll(async () => {
  // The daemon runs without its node (it keeps trying); loopback port 1 refuses.
  const cred = await runPvrlink([
    "control",
    "enroll",
    "box",
    "--data",
    join(work, "n"),
    "--public-url",
    "http://127.0.0.1:1",
  ]);
  writeFileSync(join(work, "box.json"), cred.stdout);
  expect(
    (await runPvrlink(["recorder", "enroll", "--credential", join(work, "box.json"), "--data", data])).code,
  ).toBe(0);
});

/** Starts a daemon in the foreground and waits until its lock file names it. */
async function start(args: string[], lockFile: string): Promise<Bun.Subprocess<"ignore", "pipe", "pipe">> {
  const p = Bun.spawn([requireBinary(X64_BINARY), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  spawned.push(p);
  // The first stdout line comes once the daemon serves (and handles SIGTERM); a signal before would kill it.
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  if (value === undefined)
    throw new Error(`${args.join(" ")} exited ${await p.exited}: ${await new Response(p.stderr).text()}`);
  expect(livePid(lockFile)).toBe(p.pid);
  return p;
}

describe("one daemon per data directory", () => {
  const daemons: [string, string[], string][] = [
    [
      "recorder run",
      ["recorder", "run", "--data", data, "--listen", "127.0.0.1:0"],
      join(data, "recorder.pid"),
    ],
    [
      "control serve",
      ["control", "serve", "--data", join(work, "node"), "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"],
      join(work, "node", "control.pid"),
    ],
  ];
  for (const [name, args, lockFile] of daemons) {
    test(`a second ${name} on the same data directory exits 1 with ERR_ALREADY_RUNNING; a killed one's lock is taken over`, async () => {
      const first = await start(args, lockFile);
      const second = await runPvrlink(args);
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split("\n")).toHaveLength(1);
      expect(second.stderr).toContain(`pid ${first.pid} already runs on this data directory`);
      expect(second.stderr).toContain("(ERR_ALREADY_RUNNING)");
      expect(livePid(lockFile)).toBe(first.pid);
      expect(first.exitCode).toBeNull();

      first.kill("SIGKILL"); // a crash: the lock file stays, naming a dead PID
      await first.exited;
      expect(readFileSync(lockFile, "utf8").trim()).toBe(String(first.pid));
      const third = await start(args, lockFile);
      third.kill("SIGTERM");
      expect(await third.exited).toBe(0);
      expect(livePid(lockFile)).toBeUndefined();
    }, 60_000);
  }
});
