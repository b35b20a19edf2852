/** @module Tests for parseProcessPriority() and lowerProcessPriority(), the latter in real child processes read back through /proc and ionice. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChildProcess, runToEnd } from "../../demo/child-process.ts";
import { DEFAULT_PROCESS_PRIORITY, type ProcessPriority, parseProcessPriority } from "./process-priority.ts";

const fail = (what: string, why: string): never => {
  throw new Error(`${what}: ${why}`);
};

describe("parseProcessPriority()", () => {
  const valid: Array<[string, unknown, ProcessPriority]> = [
    ["no key at all as the low default", undefined, DEFAULT_PROCESS_PRIORITY],
    ["an empty object as the default", {}, DEFAULT_PROCESS_PRIORITY],
    ["nice 0 with I/O unchanged", { nice: 0, io: "unchanged" }, { nice: 0, io: "unchanged", ioLevel: 7 }],
    ["the idle I/O class", { io: "idle" }, { nice: 19, io: "idle", ioLevel: 7 }],
    ["a best-effort level", { nice: 10, ioLevel: 4 }, { nice: 10, io: "best-effort", ioLevel: 4 }],
  ];
  for (const [what, v, want] of valid)
    test(`parseProcessPriority() reads ${what}`, () => expect(parseProcessPriority(v, fail)).toEqual(want));

  const invalid: Array<[string, unknown, RegExp]> = [
    ["a string", "low", /^priority: is not an object/],
    ["an array", [19], /^priority: is not an object/],
    ["an unknown key", { ionice: 7 }, /unknown key 'ionice'/],
    [
      "a negative nice (that would raise the priority)",
      { nice: -5 },
      /priority.nice: -5 is not an integer in \[0, 19\]/,
    ],
    ["nice 20", { nice: 20 }, /priority.nice/],
    ["a fractional nice", { nice: 1.5 }, /priority.nice/],
    ["the realtime I/O class", { io: "realtime" }, /priority.io: "realtime" is not/],
    ["I/O level 8", { ioLevel: 8 }, /priority.ioLevel: 8 is not an integer in \[0, 7\]/],
  ];
  for (const [what, v, msg] of invalid)
    test(`parseProcessPriority() rejects ${what}`, () =>
      expect(() => parseProcessPriority(v, fail)).toThrow(msg));
});

/** A child that applies PRIORITY to itself, prints the outcome as JSON and waits to be read from outside. */
const CHILD = `
import { lowerProcessPriority } from ${JSON.stringify(join(import.meta.dir, "process-priority.ts"))};
// A second thread beside the main one: per-thread settings must reach it too.
new Worker(URL.createObjectURL(new Blob(["setInterval(() => {}, 1000)"])));
await Bun.sleep(50);
console.log(JSON.stringify(lowerProcessPriority(JSON.parse(process.env.PRIORITY))));
setInterval(() => {}, 1000);
`;

/** Field 19 of /proc/PID/task/TID/stat (after the parenthesised name): the thread's nice value. */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

async function ionice(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`))
    out.push((await runToEnd(["ionice", "-p", tid])).stdout.trim());
  return out;
}

async function withChild(
  priority: ProcessPriority,
  check: (pid: number, outcome: Record<string, unknown>) => Promise<void>,
  prefix: string[] = [],
): Promise<void> {
  await using child = new ChildProcess("priority", [...prefix, process.execPath, "-e", CHILD], {
    env: { PRIORITY: JSON.stringify(priority) },
  });
  const line = await child.waitForLine((l) => l.startsWith("{"));
  await check(child.pid, JSON.parse(line));
}

describe("lowerProcessPriority()", () => {
  test("lowerProcessPriority() moves every thread to nice 19 and best-effort I/O level 7 by default", async () => {
    await withChild(DEFAULT_PROCESS_PRIORITY, async (pid, outcome) => {
      expect(outcome).toMatchObject({ nice: 19, io: "best-effort/7", problems: [] });
      expect(outcome.threads as number).toBeGreaterThan(1);
      const nices = threadNices(pid);
      expect(nices.length).toBeGreaterThan(1);
      expect(new Set(nices)).toEqual(new Set([19]));
      expect(new Set(await ionice(pid))).toEqual(new Set(["best-effort: prio 7"]));
    });
  });

  test("lowerProcessPriority() sets the idle I/O class when configured", async () => {
    await withChild({ nice: 5, io: "idle", ioLevel: 7 }, async (pid, outcome) => {
      expect(outcome).toMatchObject({ nice: 5, io: "idle/7", problems: [] });
      expect(new Set(threadNices(pid))).toEqual(new Set([5]));
      expect(new Set(await ionice(pid))).toEqual(new Set(["idle"]));
    });
  });

  test("lowerProcessPriority() with nice 0 and I/O unchanged leaves the process as it was", async () => {
    await withChild({ nice: 0, io: "unchanged", ioLevel: 7 }, async (pid, outcome) => {
      expect(outcome).toMatchObject({ nice: 0, io: "unchanged", problems: [] });
      expect(new Set(threadNices(pid))).toEqual(new Set([0]));
      expect(new Set(await ionice(pid))).toEqual(new Set(["none: prio 0"]));
    });
  });

  test("lowerProcessPriority() never raises a priority: a process started at nice 15 stays at 15 under nice 10", async () => {
    await withChild(
      { nice: 10, io: "unchanged", ioLevel: 7 },
      async (pid, outcome) => {
        expect(outcome).toMatchObject({ nice: 15, problems: [] });
        expect(new Set(threadNices(pid))).toEqual(new Set([15]));
      },
      ["nice", "-n", "15"],
    );
  });

  test("lowerProcessPriority() in a session leader lowers its autogroup too (sched(7)), where the kernel has autogroups", async () => {
    await withChild(
      DEFAULT_PROCESS_PRIORITY,
      async (pid, outcome) => {
        let autogroup: string;
        try {
          autogroup = readFileSync(`/proc/${pid}/autogroup`, "utf8");
        } catch {
          // CONFIG_SCHED_AUTOGROUP off: nothing to lower, and the outcome must not claim it.
          expect(outcome.autogroupNice).toBeUndefined();
          return;
        }
        expect(outcome.autogroupNice).toBe(19);
        expect(autogroup).toMatch(/ nice 19$/m);
      },
      ["setsid"],
    );
  });
});
