/** @module PidLock: one holder per lock file, a dead holder's lock taken over, a live one refused with ERR_ALREADY_RUNNING. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "./command.ts";
import { livePid, PidLock } from "./pid-lock.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-pidlock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `lock-${++n}.pid`);

/** The PID of a process that has exited (and been reaped): a stale lock's holder. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

describe("PidLock.acquire()", () => {
  const takeOver: [string, () => Promise<string>][] = [
    ["no file", async () => ""],
    ["a dead PID", async () => `${await deadPid()}\n`],
    ["garbage", async () => "not a pid\n"],
    ["an empty file", async () => "\n"],
  ];
  for (const [name, content] of takeOver) {
    test(`PidLock.acquire() takes a lock holding ${name} and writes its own PID`, async () => {
      const path = fresh();
      const text = await content();
      if (text !== "") writeFileSync(path, text);
      const lock = PidLock.acquire(path, "the test daemon", "stop it");
      expect(readFileSync(path, "utf8")).toBe(`${process.pid}\n`);
      expect(livePid(path)).toBe(process.pid);
      lock.release();
      expect(existsSync(path)).toBe(false);
    });
  }

  test("PidLock.acquire() refuses a lock a live process holds, naming it, and leaves the file alone", async () => {
    const path = fresh();
    const holder = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(path, `${holder.pid}\n`);
      let thrown: unknown;
      try {
        PidLock.acquire(path, "the recorder daemon", "stop it first");
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(InputError);
      expect((thrown as InputError).code).toBe("ERR_ALREADY_RUNNING");
      expect((thrown as Error).message).toContain(`pid ${holder.pid}`);
      expect((thrown as Error).message).toContain("stop it first");
      expect(readFileSync(path, "utf8")).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill();
      await holder.exited;
    }
  });

  test("PidLock.release() leaves a file another process has taken since", () => {
    const path = fresh();
    const lock = PidLock.acquire(path, "d", "h");
    writeFileSync(path, "1\n"); // init: alive, not us
    lock.release();
    expect(readFileSync(path, "utf8")).toBe("1\n");
  });
});
