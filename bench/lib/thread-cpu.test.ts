import { describe, expect, test } from "bun:test";
import { cpuByKind, mergeThreadCpu, threadCpu } from "./thread-cpu.ts";

describe("threadCpu()", () => {
  test("threadCpu() names this process's first thread main and counts its CPU", () => {
    // Burn some CPU on the main thread so its reading cannot be zero.
    const until = performance.now() + 50;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const reading = threadCpu(process.pid);
    const main = reading.get(`${process.pid} main`);
    expect(main).toBeGreaterThan(0);
    for (const key of reading.keys()) expect(key).toMatch(/^\d+ (main|pool|jit|gc|scavenger|http|other)$/);
  });

  test("threadCpu() of a process that is gone is empty", async () => {
    const child = Bun.spawn(["true"]);
    await child.exited;
    expect(threadCpu(child.pid).size).toBe(0);
  });
});

describe("mergeThreadCpu() and cpuByKind()", () => {
  const cases: Array<{
    name: string;
    before: Array<[string, number]>;
    readings: Array<Array<[string, number]>>;
    want: Record<string, number>;
  }> = [
    {
      name: "keeps each thread's highest reading, so a thread gone from the last reading still counts",
      before: [["1 main", 1]],
      readings: [
        [
          ["1 main", 2],
          ["7 pool", 0.5],
        ],
        [["1 main", 3]],
      ],
      want: { main: 2, pool: 0.5 },
    },
    {
      name: "sums threads of one kind and counts a thread born after the first reading whole",
      before: [
        ["1 main", 0],
        ["7 pool", 1],
      ],
      readings: [
        [
          ["1 main", 0.25],
          ["7 pool", 1.5],
          ["8 pool", 2],
        ],
      ],
      want: { main: 0.25, pool: 2.5 },
    },
    { name: "no readings give nothing", before: [["1 main", 1]], readings: [], want: {} },
  ];
  for (const c of cases)
    test(`cpuByKind() ${c.name}`, () => {
      const merged = new Map<string, number>();
      for (const r of c.readings) mergeThreadCpu(merged, new Map(r));
      expect(cpuByKind(new Map(c.before), merged)).toEqual(c.want);
    });
});
