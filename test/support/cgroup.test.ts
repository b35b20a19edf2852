/** @module Tests for the cgroup v2 kit: parseMemoryEvents(), and real groups on a kernel with a unified hierarchy (as root). */
import { describe, expect, test } from "bun:test";
import {
  cgroupV1MemoryDir,
  MemoryCgroup,
  type MemoryEvents,
  parseMemoryEvents,
  parseOomControl,
} from "./cgroup.ts";

const MIB = 1024 * 1024;

describe("parseMemoryEvents()", () => {
  const valid: Array<[string, string, Partial<MemoryEvents>]> = [
    [
      "a 5.17+ file with oom_group_kill",
      "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
      { max: 12, oom: 1, oom_kill: 1, oom_group_kill: 0 },
    ],
    [
      "an older file without oom_group_kill",
      "low 0\nhigh 3\nmax 0\noom 0\noom_kill 0",
      { high: 3, oom_kill: 0 },
    ],
  ];
  for (const [what, text, want] of valid)
    test(`parseMemoryEvents() reads ${what}`, () => expect(parseMemoryEvents(text)).toMatchObject(want));

  const invalid: Array<[string, string, RegExp]> = [
    ["an empty file", "", /no 'low' counter/],
    ["a missing oom_kill", "low 0\nhigh 0\nmax 0\noom 0\n", /no 'oom_kill' counter/],
    ["a negative count", "low 0\nhigh 0\nmax -1\noom 0\noom_kill 0", /line "max -1"/],
    ["a truncated line", "low 0\nhigh", /line "high"/],
  ];
  for (const [what, text, msg] of invalid)
    test(`parseMemoryEvents() rejects ${what}`, () => expect(() => parseMemoryEvents(text)).toThrow(msg));
});

describe("parseOomControl()", () => {
  test("parseOomControl() reads a v1 memory.oom_control", () =>
    expect(parseOomControl("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")).toEqual({
      under_oom: 0,
      oom_kill: 2,
    }));
  test("parseOomControl() rejects a file without oom_kill (before Linux 4.13)", () =>
    expect(() => parseOomControl("oom_kill_disable 0\nunder_oom 0\n")).toThrow(/no 'oom_kill' counter/));
});

describe("cgroupV1MemoryDir()", () => {
  const mountinfo =
    "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n" +
    "31 25 0:27 / /sys/fs/cgroup/cpu rw,relatime shared:10 - cgroup cgroup rw,cpu\n";
  test("cgroupV1MemoryDir() joins the memory mount with our own group", () =>
    expect(cgroupV1MemoryDir("4:memory:/sandbox/abc\n1:cpu:/\n0::/\n", mountinfo)).toBe(
      "/sys/fs/cgroup/memory/sandbox/abc",
    ));
  test("cgroupV1MemoryDir() is undefined where memory is on no v1 hierarchy", () =>
    expect(cgroupV1MemoryDir("0::/user.slice\n", mountinfo)).toBeUndefined());
});

/** A child that allocates and touches MIB mebibytes, then exits 0. */
const allocate = (mib: number) => [
  process.execPath,
  "-e",
  `const b = Buffer.alloc(${mib * MIB}); b.fill(1); console.log(b[b.length - 1]);`,
];

describe("MemoryCgroup", () => {
  test("MemoryCgroup runs a child within memory.max: oom_kill 0, and memory.peak covers what it touched", async () => {
    await using group = await MemoryCgroup.create("within", { memoryMax: 256 * MIB });
    const r = await group.run(allocate(64));
    expect([r.code, r.stdout.trim()]).toEqual([0, "1"]);
    expect((await group.events()).oom_kill).toBe(0);
    expect(await group.peak()).toBeGreaterThan(64 * MIB);
  });

  test("MemoryCgroup with no swap OOM-kills a child past memory.max, and memory.events counts it", async () => {
    await using group = await MemoryCgroup.create("past", { memoryMax: 64 * MIB });
    const r = await group.run(allocate(256));
    expect(r.code).not.toBe(0);
    expect((await group.events()).oom_kill).toBeGreaterThanOrEqual(1);
    expect(await group.peak()).toBeLessThanOrEqual(64 * MIB);
  });
});
