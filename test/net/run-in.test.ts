/** @module runIn() and ChildProcess line waits: deadlines, cursors, early exits. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createNetBed, type NetBed } from "./net-bed.ts";
import { exec } from "./run-in.ts";

let bed: NetBed;
beforeAll(async () => {
  bed = await createNetBed({ homes: 1 });
});
afterAll(async () => {
  await bed?.destroy();
});

describe("runIn()", () => {
  test("runs the program inside the namespace (it sees the namespace's interfaces)", async () => {
    await using p = bed.runIn(bed.home(1).ns, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
    expect(await p.exited).toBe(0);
    expect(p.lines.join("\n")).toContain(`inet ${bed.home(1).lanAddr}/24`);
  });

  test("send() feeds stdin lines and waitForLine() returns the match", async () => {
    await using p = bed.runIn(bed.home(1).ns, ["cat"]);
    p.send("one");
    p.send("two 42");
    const m = await p.waitForLine(/^two (\d+)$/);
    expect(m[1]).toBe("42");
  });

  test("waitForLine() with since ignores lines printed before the mark", async () => {
    await using p = bed.runIn(bed.home(1).ns, ["cat"]);
    p.send("ready");
    await p.waitForLine(/^ready$/);
    const mark = p.mark();
    p.send("ready");
    p.send("after");
    await p.waitForLine(/^after$/, { since: mark });
    expect((await p.waitForLine(/^ready$/, { since: mark })).index).toBe(0);
    expect(p.lines.slice(mark)).toEqual(["ready", "after"]);
  });

  test("waitForLine() times out naming the pattern and the last lines", async () => {
    await using p = bed.runIn(bed.home(1).ns, ["cat"], { label: "quiet cat" });
    p.send("something else");
    await expect(p.waitForLine(/^never$/, { timeoutMs: 150 })).rejects.toThrow(
      /Timed out after 150 ms waiting for quiet cat to print \/\^never\$\/; last lines: something else/,
    );
  });

  test("waitForLine() fails at once when the process exits without printing it", async () => {
    await using p = bed.runIn(bed.home(1).ns, ["sh", "-c", "echo bye; echo oops >&2; exit 4"]);
    const started = performance.now();
    await expect(p.waitForLine(/^never$/, { timeoutMs: 5000 })).rejects.toThrow(
      /exited with code 4 before printing .*last lines: .*oops/,
    );
    expect(performance.now() - started).toBeLessThan(4000);
  });

  test("stop() ends a process that ignores SIGTERM", async () => {
    const p = bed.runIn(bed.home(1).ns, [
      "sh",
      "-c",
      "trap '' TERM; echo armed; while :; do sleep 0.1; done",
    ]);
    await p.waitForLine(/^armed$/);
    expect(await p.stop("SIGTERM", 2000)).not.toBe(0);
  });

  test("runIn() rejects an empty argv", () => {
    expect(() => bed.runIn(bed.home(1).ns, [])).toThrow(RangeError);
  });
});

describe("exec()", () => {
  test("throws with the command and its stderr on failure", async () => {
    await expect(exec(["ip", "netns", "exec", "pvrnet-no-such-ns", "true"])).rejects.toThrow(
      /Command failed \(exit \d+\): ip netns exec pvrnet-no-such-ns true: .+/,
    );
  });
});
