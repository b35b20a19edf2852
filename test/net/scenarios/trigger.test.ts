/** @module Scenario: a STATUS query and a data-waiting trigger reach a recorder behind NAT through its keepalive mapping alone. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { waitFor } from "../../../demo/wait-for.ts";
import { ROOT } from "../../support/compiled-binary.ts";
import { sha256File } from "../../support/left-behind.ts";
import { summaryOf } from "../../support/send-summary.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario;
const FILE = join(ROOT, "testdata/es/mpeg2-gop15.m2v");

beforeAll(async () => {
  s = await Scenario.start({ udpTimeoutSec: 12 });
  // Bun keeps idle HTTP connections to the node open; a router that forgets idle TCP flows after 3 s (as home
  // routers do, after minutes) leaves the UDP keepalive mapping as the only way into bob's home. Set before
  // bob starts: an entry keeps the timeout it was last refreshed with.
  await s.setTcpIdleTimeout(2, 3);
  await s.addRecorder("alice", 1);
  await s.addRecorder("bob", 2);
  await s.recorderOk("bob", ["permit", "add", "alice"]);
  await s.recorderOk("bob", ["recorder", "busy", "on"]);
}, 60_000);

afterAll(async () => {
  await s?.[Symbol.asyncDispose]();
});

/** Waits until bob's router holds no established TCP flow: nothing but the UDP mapping leads into his home. */
async function onlyTheKeepaliveMapping(): Promise<void> {
  await waitFor(
    "bob's router to hold no established TCP flow",
    async () => (await s.establishedTcp(2)).length === 0,
    {
      timeoutMs: 20_000,
      intervalMs: 200,
    },
  );
  const udp = (await s.bed.mappings(2)).filter((m) => m.proto === "udp");
  expect(udp).toHaveLength(1);
}

describe("triggers through NAT", () => {
  test("a STATUS query from the other home reaches busy bob through his keepalive mapping: send says callee_busy", async () => {
    await onlyTheKeepaliveMapping();
    const bob = s.recorder("bob");
    const mark = bob.proc.mark();
    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
    const summary = summaryOf(run.stdout);
    // callee_busy can only come from bob's own ACK; an unreachable bob would be callee_not_connected.
    expect(run.code).toBe(1);
    expect(summary.code).toBe("callee_busy");
    const [line] = events(bob, "trigger ", mark);
    expect(line).toMatch(/kind=status .*answer=busy/);
    expect((await s.status("bob")).daemon?.triggers.accepted).toBeGreaterThanOrEqual(1);
    // Nothing went anywhere.
    expect(await s.library("bob")).toEqual([]);
  }, 30_000);

  test("a data-waiting trigger reaches bob with no TCP connection open; he picks the stored recording up once not busy", async () => {
    await onlyTheKeepaliveMapping();
    const bob = s.recorder("bob");
    const mark = bob.proc.mark();
    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json", "--store-if-busy"]);
    const summary = summaryOf(run.stdout);
    expect(run.code).toBe(0);
    expect(summary.mode).toBe("store");
    // The inbox is polled only hourly in these scenarios, so the data trigger is what brings bob to it.
    await bob.proc.waitForLine(/ recorder trigger kind=data /, { since: mark, timeoutMs: 10_000 });
    await bob.proc.waitForLine(/ recorder pickup-deferred /, { since: mark, timeoutMs: 10_000 });
    const waiting = await s.status("bob");
    expect(waiting.daemon?.inbox).toMatchObject({ pending: 1, waitingForLoad: true });
    expect(await s.library("bob")).toEqual([]);

    await s.recorderOk("bob", ["recorder", "busy", "off"]);
    await bob.proc.waitForLine(/ recorder pickup-filed /, { since: mark, timeoutMs: 15_000 });
    const filed = (await s.library("bob")).find((r) => r.sha256 === summary.sha256);
    expect(filed?.sender).toBe("alice");
    expect(await sha256File(filed?.path ?? "")).toBe(await sha256File(FILE));
    expect(await s.incomingLeftovers("bob")).toEqual([]);
  }, 40_000);
});
