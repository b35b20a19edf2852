/** @module Loss and delay on a home's wan link through the TUN delay line, measured with UDP probes. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ChildProcess } from "../../demo/child-process.ts";
import { pythonPath } from "./impairment.ts";
import { createNetBed, type NetBed, NODE_ADDR } from "./net-bed.ts";
import type { RttResult } from "./probe.ts";
import { exec } from "./run-in.ts";

const PROBE = join(import.meta.dir, "probe.ts");
const DELAY_LINE = join(import.meta.dir, "delay-line.py");
const PROBES = 1000;

let bed: NetBed;
let echo: ChildProcess;
let echoPort: string;
beforeAll(async () => {
  bed = await createNetBed({ homes: 1 });
  echo = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
  echoPort = (await echo.waitForLine(/^listening (\d+)$/))[1]!;
});
afterAll(async () => {
  await bed?.destroy();
});

async function measure(count: number, intervalMs: number): Promise<RttResult> {
  const p = bed.runIn(bed.home(1).ns, [
    process.execPath,
    PROBE,
    "udp-rtt",
    NODE_ADDR,
    echoPort,
    `${count}`,
    `${intervalMs}`,
  ]);
  const m = await p.waitForLine(/^result (.*)$/, { timeoutMs: 30_000 });
  const result = JSON.parse(m[1]!) as RttResult;
  console.log(`udp-rtt ${count} probes: ${m[1]}`); // the figures docs/nat.md quotes
  return result;
}

describe("impair()", () => {
  test("down 100 ms / 5 %: RTT is 100 ms more and about 5 % of probes are lost", async () => {
    const plain = await measure(100, 1);
    expect(plain.lossPercent).toBe(0);
    await using imp = await bed.impair(1, { down: { delayMs: 100, lossPercent: 5 } });
    const r = await measure(PROBES, 1);
    const stats = await imp.stop();
    expect(r.rttMs!.min).toBeGreaterThanOrEqual(100);
    expect(r.rttMs!.median).toBeLessThan(100 + plain.rttMs!.median + 15);
    // 1000 draws at p = 5 %: sd 0.7 points, so 2..9 % is a > 4 sd band.
    expect(r.lossPercent).toBeGreaterThan(2);
    expect(r.lossPercent).toBeLessThan(9);
    // The delay line's own count of what it dropped matches the loss the probe saw.
    expect(stats.down.dropped).toBe(r.sent - r.received);
    expect(stats.up.dropped).toBe(0);
  }, 20_000);

  test("up 50 ms / 2.5 % and down 50 ms / 2.5 %: delays add up, losses compound", async () => {
    await using imp = await bed.impair(1, {
      up: { delayMs: 50, lossPercent: 2.5 },
      down: { delayMs: 50, lossPercent: 2.5 },
      seed: 7,
    });
    const r = await measure(PROBES, 1);
    const stats = await imp.stop();
    expect(r.rttMs!.min).toBeGreaterThanOrEqual(100);
    expect(r.rttMs!.median).toBeLessThan(115);
    expect(r.lossPercent).toBeGreaterThan(2); // expected 1 - 0.975^2 = 4.9 %
    expect(r.lossPercent).toBeLessThan(9);
    expect(stats.up.dropped + stats.down.dropped).toBe(r.sent - r.received);
  }, 20_000);

  test("stop() restores the plain link", async () => {
    const imp = await bed.impair(1, { down: { delayMs: 200, lossPercent: 50 } });
    await imp.stop();
    const r = await measure(100, 1);
    expect(r.lossPercent).toBe(0);
    expect(r.rttMs!.median).toBeLessThan(20);
  }, 20_000);

  test("impair() rejects out-of-range figures before touching the link", async () => {
    await expect(bed.impair(1, { down: { delayMs: -1, lossPercent: 5 } })).rejects.toThrow(RangeError);
    await expect(bed.impair(1, { up: { delayMs: 10, lossPercent: 101 } })).rejects.toThrow(/out of range/);
  });
});

describe("delay-line.py", () => {
  test.each([
    ["--down", "100"],
    ["--down", "x:5"],
    ["--up", "10:150"],
    ["--up", "20000:0"],
  ])("rejects impairment %s %s with exit 2 and a message", async (flag, value) => {
    const p = Bun.spawn(
      [pythonPath(), DELAY_LINE, "--dev", "impx", "--down-net", "100.64.9.0/24", flag, value],
      {
        stderr: "pipe",
      },
    );
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toMatch(/^delay-line: impairment/);
  });

  test("direction_of() survives 20000 random and truncated packets", async () => {
    // Fuzz the packet classifier directly: it must answer "up", "down" or None and never raise.
    const script = `
import importlib.util, random
spec = importlib.util.spec_from_file_location("dl", ${JSON.stringify(DELAY_LINE)})
dl = importlib.util.module_from_spec(spec); spec.loader.exec_module(dl)
import ipaddress
net = ipaddress.IPv4Network("100.64.1.0/24")
rng = random.Random(1)
seen = {}
for i in range(20000):
    n = rng.randrange(0, 60)
    pkt = bytes(rng.randrange(256) for _ in range(n))
    if i % 3 == 0 and n >= 20:
        pkt = bytes([0x45]) + pkt[1:16] + bytes([100, 64, 1, rng.randrange(256)]) + pkt[20:]
    d = dl.direction_of(pkt, net)
    assert d in ("up", "down", None), d
    seen[d] = seen.get(d, 0) + 1
print(sorted((str(k), v) for k, v in seen.items()))
`;
    const out = await exec([pythonPath(), "-c", script]);
    expect(out).toContain("'down'");
    expect(out).toContain("'up'");
    expect(out).toContain("'None'");
  });
});
