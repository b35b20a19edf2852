/** @module Scenario: 5 % loss and 100 ms delay each way on both homes' wan links; triggers are retried until acknowledged and transfers complete. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../support/compiled-binary.ts";
import { sha256File } from "../../support/left-behind.ts";
import { summaryOf } from "../../support/send-summary.ts";
import type { Impairment } from "../impairment.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario;
const impairments: Impairment[] = [];
const FILE = join(ROOT, "testdata/containers/ts-mpeg2.ts");
const FORWARDED = 7000;
const LINK = { delayMs: 100, lossPercent: 5 };

beforeAll(async () => {
  s = await Scenario.start({ udpTimeoutSec: 12 });
  await s.bed.portForward(2, { proto: "tcp", wanPort: FORWARDED, lanPort: FORWARDED });
  await s.addRecorder("alice", 1);
  await s.addRecorder("bob", 2, [
    "--listen",
    `0.0.0.0:${FORWARDED}`,
    "--advertise",
    `${s.bed.home(2).wanAddr}:${FORWARDED}`,
  ]);
  await s.recorderOk("bob", ["permit", "add", "alice"]);
  // Seeded, so a failure can be replayed with the same drops.
  for (const home of [1, 2])
    impairments.push(await s.bed.impair(home, { up: LINK, down: LINK, seed: 40 + home }));
}, 60_000);

afterAll(async () => {
  for (const i of impairments) await i.stop().catch(() => {});
  await s?.[Symbol.asyncDispose]();
});

test("STATUS triggers to busy bob over a lossy 200 ms round trip are retried until acknowledged: every query gets his answer", async () => {
  const bob = s.recorder("bob");
  await s.recorderOk("bob", ["recorder", "busy", "on"]);
  const mark = bob.proc.mark();
  const codes: string[] = [];
  for (let i = 0; i < 4; i++) {
    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
    codes.push(summaryOf(run.stdout).code ?? `exit ${run.code}`);
  }
  // callee_busy needs bob's ACK to reach the node; a trigger lost for good would read callee_not_connected.
  expect(codes).toEqual(["callee_busy", "callee_busy", "callee_busy", "callee_busy"]);
  const acted = events(bob, "trigger ", mark).filter((l) => l.includes("kind=status"));
  expect(acted).toHaveLength(4);
  // The node's first resend comes after 150 ms, before an ACK can be back over 200 ms: bob sees the
  // resends, acknowledges them again, and acts once per trigger.
  expect(events(bob, "trigger-duplicate", mark).length).toBeGreaterThanOrEqual(1);
  await s.recorderOk("bob", ["recorder", "busy", "off"]);
}, 60_000);

test("a split send over the lossy links completes byte-identical, direct part through bob's port forward", async () => {
  const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
  expect(run.code).toBe(0);
  const summary = summaryOf(run.stdout);
  expect(summary.route).toBe("split");
  expect(summary.fallback).toBe(false);
  expect(summary.bytesDirect).toBeGreaterThan(0);
  const filed = (await s.library("bob")).find((r) => r.sha256 === summary.sha256);
  expect(await sha256File(filed?.path ?? "")).toBe(await sha256File(FILE));
  expect(await s.incomingLeftovers("bob")).toEqual([]);
  const stats = await Promise.all(impairments.map((i) => i.stop()));
  // The links really were lossy: the delay lines dropped packets in both directions.
  const dropped = stats.reduce((n, st) => n + st.down.dropped + st.up.dropped, 0);
  console.log(`lossy wan: delay lines dropped ${dropped} packets: ${JSON.stringify(stats)}`);
  expect(dropped).toBeGreaterThan(0);
}, 60_000);
