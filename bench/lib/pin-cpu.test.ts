/** @module Tests of pinCpu(): a pinned process reports the affinity it was given, and a bad core list is refused. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { pinCpu } from "./pin-cpu.ts";

/** Cpus_allowed_list of the process, as the kernel reports it. */
function allowed(pid: number): string {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("Cpus_allowed_list:"));
  return line?.split(":")[1]?.trim() ?? "";
}

describe("pinCpu()", () => {
  test("pinCpu() sets a child's affinity to core 0", async () => {
    await using child = Bun.spawn(["sleep", "30"]);
    pinCpu(child.pid, "0");
    expect(allowed(child.pid)).toBe("0");
    child.kill();
  });

  const refused: { name: string; cpus: string }[] = [
    { name: "a core past the machine's", cpus: "4096" },
    { name: "a list that is no list", cpus: "x" },
  ];
  for (const c of refused)
    test(`pinCpu() refuses ${c.name}`, async () => {
      await using child = Bun.spawn(["sleep", "30"]);
      expect(() => pinCpu(child.pid, c.cpus)).toThrow(/^Cannot pin process/);
      child.kill();
    });
});
