/** @module Tests for KeepaliveCadence: halving on misses, mapping loss and expiry, recovery. */
import { describe, expect, test } from "bun:test";
import { KeepaliveCadence } from "./keepalive-cadence.ts";

describe("KeepaliveCadence", () => {
  test("KeepaliveCadence halves the interval per miss down to the floor and restores it on an answer", () => {
    const c = new KeepaliveCadence({ intervalMs: 25_000, floorMs: 5000, missLimit: 3 });
    const seen: number[] = [];
    const lostAt: number[] = [];
    for (let i = 1; i <= 5; i++) {
      if (c.missed()) lostAt.push(i);
      seen.push(c.intervalMs);
    }
    expect(seen).toEqual([12_500, 6250, 5000, 5000, 5000]);
    expect(lostAt).toEqual([3]);
    expect(c.lost).toBe(true);
    const o = c.answered("203.0.113.5:40000");
    expect(o).toEqual({
      first: true,
      mappingChanged: false,
      recovered: true,
      expired: false,
      previous: undefined,
    });
    expect(c.intervalMs).toBe(25_000);
    expect(c.lost).toBe(false);
    expect(c.misses).toBe(0);
  });

  const answers: Array<[string, string[], { first: boolean; mappingChanged: boolean; recovered: boolean }]> =
    [
      [
        "the first answer asks for registration",
        ["1.2.3.4:5"],
        { first: true, mappingChanged: false, recovered: false },
      ],
      [
        "the same mapping changes nothing",
        ["1.2.3.4:5", "1.2.3.4:5"],
        { first: false, mappingChanged: false, recovered: false },
      ],
      [
        "a new port is a mapping change",
        ["1.2.3.4:5", "1.2.3.4:6"],
        { first: false, mappingChanged: true, recovered: false },
      ],
      [
        "a new address is a mapping change",
        ["1.2.3.4:5", "9.9.9.9:5"],
        { first: false, mappingChanged: true, recovered: false },
      ],
    ];
  for (const [name, mapped, want] of answers) {
    test(`KeepaliveCadence.answered() ${name}`, () => {
      const c = new KeepaliveCadence({ intervalMs: 25_000 });
      let last = c.answered(mapped[0]!);
      for (const m of mapped.slice(1)) last = c.answered(m);
      expect(last).toMatchObject(want);
    });
  }

  const expiries: Array<[string, string[], boolean[], number]> = [
    [
      "a new port on the same address is an expiry: the steady interval halves",
      ["1.2.3.4:5", "1.2.3.4:6"],
      [false, true],
      10_000,
    ],
    [
      "each further expiry halves again, down to the floor",
      ["1.2.3.4:5", "1.2.3.4:6", "1.2.3.4:7", "1.2.3.4:8", "1.2.3.4:9"],
      [false, true, true, true, true],
      3000,
    ],
    ["a new address (dynamic IP) is no expiry", ["1.2.3.4:5", "9.9.9.9:6"], [false, false], 20_000],
    ["an unchanged mapping is no expiry", ["1.2.3.4:5", "1.2.3.4:5"], [false, false], 20_000],
    ["IPv6 mappings compare by address too", ["[2001:db8::1]:5", "[2001:db8::1]:6"], [false, true], 10_000],
  ];
  for (const [name, mapped, want, steady] of expiries) {
    test(`KeepaliveCadence.answered() ${name}`, () => {
      const c = new KeepaliveCadence({ intervalMs: 20_000, floorMs: 3000 });
      expect(mapped.map((m) => c.answered(m).expired)).toEqual(want);
      expect(c.steadyMs).toBe(steady);
      expect(c.intervalMs).toBe(steady);
    });
  }

  test("KeepaliveCadence after an expiry, misses halve from the shortened interval and an answer restores the shortened one", () => {
    const c = new KeepaliveCadence({ intervalMs: 20_000, floorMs: 1000 });
    c.answered("1.2.3.4:5");
    expect(c.answered("1.2.3.4:6").expired).toBe(true);
    expect(c.intervalMs).toBe(10_000);
    c.missed();
    expect(c.intervalMs).toBe(5000);
    c.answered("1.2.3.4:6");
    expect(c.intervalMs).toBe(10_000);
  });

  test("KeepaliveCadence misses below the limit do not count as lost or as recovered", () => {
    const c = new KeepaliveCadence({ intervalMs: 20_000, missLimit: 3 });
    c.answered("1.2.3.4:5");
    expect(c.missed()).toBe(false);
    expect(c.missed()).toBe(false);
    expect(c.answered("1.2.3.4:5").recovered).toBe(false);
  });

  test("KeepaliveCadence answer timeout never exceeds 3 s or the interval", () => {
    expect(new KeepaliveCadence({ intervalMs: 25_000 }).answerTimeoutMs).toBe(3000);
    expect(new KeepaliveCadence({ intervalMs: 1000, floorMs: 500 }).answerTimeoutMs).toBe(1000);
  });

  const bad: Array<[string, ConstructorParameters<typeof KeepaliveCadence>[0]]> = [
    ["a zero interval", { intervalMs: 0 }],
    ["a zero floor", { intervalMs: 1000, floorMs: 0 }],
    ["a zero miss limit", { intervalMs: 1000, missLimit: 0 }],
  ];
  for (const [name, o] of bad) {
    test(`KeepaliveCadence rejects ${name}`, () => {
      expect(() => new KeepaliveCadence(o)).toThrow(RangeError);
    });
  }
});
