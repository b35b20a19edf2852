/** @module Tests for UnknownSessionGate: a made-up session id costs nothing without the contact ticket, and a node lookup only within the per-source and global budgets. */
import { expect, test } from "bun:test";
import { UnknownSessionGate } from "./unknown-session-gate.ts";

/** A gate on a hand-driven clock; returns it with its fetch count and the ticket set. */
function gate(o: { perSourceEveryMs?: number; globalEveryMs?: number } = {}) {
  let now = 0;
  let fetches = 0;
  const tickets = new Set<string>();
  const g = new UnknownSessionGate({
    hasTicket: (id) => tickets.has(id),
    fetch: async () => {
      fetches++;
    },
    waitMs: 0,
    now: () => now,
    ...o,
  });
  return { g, tickets, fetches: () => fetches, advance: (ms: number) => (now += ms) };
}

// [case, steps: [advance ms, source] per preamble, expected fetches]
const cases: [string, [number, string][], number][] = [
  ["one unknown preamble asks once", [[0, "a"]], 1],
  [
    "a flood from one source asks once per period",
    Array.from({ length: 100 }, () => [10, "a"] as [number, string]),
    1,
  ],
  [
    "a flood from many sources is held by the global budget",
    Array.from({ length: 100 }, (_, i) => [10, `s${i}`] as [number, string]),
    1,
  ],
  [
    "the same source may ask again after its period",
    [
      [0, "a"],
      [10_000, "a"],
    ],
    2,
  ],
  [
    "another source may ask after the global period",
    [
      [0, "a"],
      [2000, "b"],
    ],
    2,
  ],
];

for (const [name, steps, want] of cases) {
  test(`UnknownSessionGate.resolve(): ${name}`, async () => {
    const t = gate();
    for (const [ms, source] of steps) {
      t.advance(ms);
      await t.g.resolve("ses_unknown", source);
    }
    expect(t.fetches()).toBe(want);
  });
}

test("UnknownSessionGate.resolve() asks nothing when the grant arrives through the contact trigger meanwhile", async () => {
  const tickets = new Set<string>();
  let fetches = 0;
  const g = new UnknownSessionGate({
    hasTicket: (id) => tickets.has(id),
    fetch: async () => {
      fetches++;
    },
    waitMs: 2000,
  });
  setTimeout(() => tickets.add("ses_x"), 50);
  await g.resolve("ses_x", "a");
  expect(fetches).toBe(0);
});

test("UnknownSessionGate.resolve() asks nothing for an unproven preamble, and strangers do not spend a proven caller's budget", async () => {
  let fetches = 0;
  const good = { connectBy: 1, ticket: new Uint8Array([1]) };
  const forged = { connectBy: 1, ticket: new Uint8Array([2]) };
  const g = new UnknownSessionGate({
    hasTicket: () => false,
    fetch: async () => {
      fetches++;
    },
    proven: (_id, c) => c.ticket[0] === 1,
    waitMs: 0,
  });
  for (let i = 0; i < 50; i++) await g.resolve(`ses_${i}`, `s${i}`, forged);
  await g.resolve("ses_real", "alice", good);
  expect({ fetches, unproven: g.stats.unproven, refused: g.stats.refused }).toEqual({
    fetches: 1,
    unproven: 50,
    refused: 0,
  });
  // Without a ticket at all (an old caller) it is unproven too.
  await g.resolve("ses_none", "x");
  expect(g.stats.unproven).toBe(51);
});
