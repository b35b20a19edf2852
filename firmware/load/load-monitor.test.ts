/** @module Tests for LoadMonitor.status(): CPU, pressure and transfer limits, and the reading window. */
import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import { describeLoadStatus, LoadMonitor } from "./load-monitor.ts";
import { type LoadReading, type LoadSource, ProcLoadSource } from "./load-source.ts";

/** A scripted source: each read() returns the next reading; the test pushes readings as "time" passes. */
class ScriptedSource implements LoadSource {
  busy = 0;
  total = 0;
  pressure: number | undefined;
  fail = false;
  /** Advances the counters by `ticks`, `share` of them busy. */
  tick(ticks: number, share: number) {
    this.total += ticks;
    this.busy += Math.round(ticks * share);
  }
  async read(): Promise<LoadReading> {
    if (this.fail) throw new Error("read failed");
    return { cpu: { busy: this.busy, total: this.total }, pressureAvg10: this.pressure };
  }
}

async function feed(m: LoadMonitor, src: ScriptedSource, share: number, n: number) {
  for (let i = 0; i < n; i++) {
    src.tick(100, share);
    await m.sample();
  }
}

describe("LoadMonitor.status()", () => {
  test("is acceptable with no readings yet and cpu unknown", () => {
    const m = new LoadMonitor({ source: new ScriptedSource() });
    expect(m.status()).toMatchObject({ state: "acceptable", cpu: undefined });
  });
  test("reports busy on cpu with metric, value and limit", async () => {
    const src = new ScriptedSource();
    const m = new LoadMonitor({ source: src, limits: { cpu: 0.8 }, window: 3 });
    await feed(m, src, 0.9, 3);
    expect(m.status()).toMatchObject({ state: "busy", reason: { metric: "cpu", value: 0.9, limit: 0.8 } });
  });
  test("forgets load older than the window", async () => {
    const src = new ScriptedSource();
    const m = new LoadMonitor({ source: src, limits: { cpu: 0.8 }, window: 3 });
    await feed(m, src, 1, 5);
    await feed(m, src, 0.1, 3);
    expect(m.status()).toMatchObject({ state: "acceptable", cpu: 0.1 });
  });
  test("reports busy on PSI pressure", async () => {
    const src = new ScriptedSource();
    src.pressure = 55.5;
    const m = new LoadMonitor({ source: src, limits: { pressure: 50 } });
    await feed(m, src, 0.1, 2);
    expect(m.status().reason).toEqual({ metric: "pressure", value: 55.5, limit: 50 });
  });
  test("reports busy at the transfer limit and acceptable once one is released", () => {
    const m = new LoadMonitor({ source: new ScriptedSource(), limits: { transfers: 2 } });
    const a = m.beginTransfer();
    {
      using _b = m.beginTransfer();
      expect(m.status().reason).toEqual({ metric: "transfers", value: 2, limit: 2 });
    }
    expect(m.status().state).toBe("acceptable");
    a.release();
    a.release(); // idempotent
    expect(m.activeTransfers).toBe(0);
  });
  test("keeps earlier readings when a read fails", async () => {
    const src = new ScriptedSource();
    const errors: unknown[] = [];
    const m = new LoadMonitor({ source: src, window: 3, onError: (e) => errors.push(e) });
    await feed(m, src, 0.5, 2);
    src.fail = true;
    await m.sample();
    expect(errors.length).toBe(1);
    expect(m.cpuShare()).toBe(0.5);
  });
  test("treats a counter reset as unknown rather than negative", async () => {
    const src = new ScriptedSource();
    const m = new LoadMonitor({ source: src, window: 2 });
    await feed(m, src, 0.5, 1);
    src.busy = 0;
    src.total = 0;
    await m.sample();
    expect(m.cpuShare()).toBeUndefined();
  });
  const badLimits: Array<[string, object]> = [
    ["cpu above 1", { cpu: 1.5 }],
    ["cpu 0", { cpu: 0 }],
    ["pressure 0", { pressure: 0 }],
    ["fractional transfers", { transfers: 1.5 }],
  ];
  for (const [what, limits] of badLimits) {
    test(`rejects ${what}`, () =>
      expect(() => new LoadMonitor({ source: new ScriptedSource(), limits })).toThrow(RangeError));
  }
});

describe("LoadMonitor.waitUntilAcceptable()", () => {
  test("resolves at once when acceptable", async () => {
    const m = new LoadMonitor({ source: new ScriptedSource() });
    expect((await m.waitUntilAcceptable()).state).toBe("acceptable");
  });
  test("resolves once the load drops", async () => {
    const src = new ScriptedSource();
    const m = new LoadMonitor({ source: src, limits: { cpu: 0.8 }, window: 2 });
    await feed(m, src, 1, 2);
    let done = false;
    const p = m.waitUntilAcceptable().then(() => (done = true));
    await feed(m, src, 0.95, 1);
    await Promise.resolve();
    expect(done).toBe(false);
    await feed(m, src, 0.2, 1);
    await p;
    expect(done).toBe(true);
  });
  test("resolves when a transfer slot frees up", async () => {
    const m = new LoadMonitor({ source: new ScriptedSource(), limits: { transfers: 1 } });
    const slot = m.beginTransfer();
    const p = m.waitUntilAcceptable();
    slot.release();
    expect((await p).transfers).toBe(0);
  });
  test("rejects with the abort reason", async () => {
    const m = new LoadMonitor({ source: new ScriptedSource(), limits: { transfers: 1 } });
    m.beginTransfer();
    const ac = new AbortController();
    const p = m.waitUntilAcceptable(ac.signal);
    ac.abort(new Error("shutting down"));
    await expect(p).rejects.toThrow("shutting down");
  });
  test("start() keeps reading a real source on its own", async () => {
    const m = new LoadMonitor({ source: new ProcLoadSource(), intervalMs: 10, window: 2 });
    using _ = m;
    m.start();
    const share = await waitFor("a CPU share from /proc/stat", () => m.cpuShare(), { timeoutMs: 5000 });
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});

describe("ProcLoadSource", () => {
  test("reads this machine's /proc", async () => {
    const r = await new ProcLoadSource().read();
    expect(r.cpu.total).toBeGreaterThan(0);
  });
  test("carries on without PSI when the file is absent and fails clearly on a corrupt stat", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pvrlink-load-"));
    try {
      await writeFile(join(dir, "stat"), "cpu 1 2 3 4\n");
      const src = new ProcLoadSource(join(dir, "stat"), join(dir, "missing"));
      expect(await src.read()).toEqual({ cpu: { busy: 6, total: 10 } });
      await writeFile(join(dir, "stat"), "garbage");
      await expect(src.read()).rejects.toThrow(expect.objectContaining({ code: "ERR_PROC_STAT_NO_CPU" }));
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("describeLoadStatus()", () => {
  test("names the metric, value and limit when busy", () => {
    expect(
      describeLoadStatus({
        state: "busy",
        reason: { metric: "cpu", value: 0.92, limit: 0.85 },
        cpu: 0.92,
        pressure: undefined,
        transfers: 0,
        limits: { cpu: 0.85, pressure: 40, transfers: 2 },
      }),
    ).toBe("busy: cpu 92% >= limit 85% (cpu 92%, pressure n/a, transfers 0)");
  });
});
