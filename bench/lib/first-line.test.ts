/** @module Tests for firstLine(): the first line of a real child process, and a clear error when it prints none. */
import { expect, test } from "bun:test";
import { firstLine } from "./first-line.ts";

const child = (code: string) =>
  Bun.spawn([process.execPath, "-e", code], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });

test.each([
  ["one line", "console.log('listening')", "listening"],
  ["two lines, the first kept", "console.log('a'); console.log('b')", "a"],
  [
    "a line written in pieces",
    "process.stdout.write('li'); setTimeout(() => process.stdout.write('ne\\nrest'), 20)",
    "line",
  ],
])("firstLine() reads %s", async (_name, code, want) => {
  const proc = child(code);
  expect(await firstLine(proc)).toBe(want);
  await proc.exited;
});

test("firstLine() rejects when the process ends before a newline", async () => {
  const proc = child("process.stdout.write('no newline')");
  await expect(firstLine(proc)).rejects.toThrow("process exited before printing its first line");
});
