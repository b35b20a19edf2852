/** @module Scenario: the control node is killed mid-transfer and restarted; recorders come back on their own and nothing half-written is filed. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitFor } from "../../../demo/wait-for.ts";
import { sha256File } from "../../support/left-behind.ts";
import { summaryOf } from "../../support/send-summary.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario;
const SIZE = 6_000_000;

beforeAll(async () => {
  // Symmetric NAT on bob's side: no punched path, so the transfer is a relay upload the outage can cut.
  s = await Scenario.start({ udpTimeoutSec: 12, routers: [{}, { mapping: "random" }] });
  await s.addRecorder("alice", 1);
  await s.addRecorder("bob", 2);
  await s.recorderOk("bob", ["permit", "add", "alice"]);
}, 60_000);

afterAll(async () => {
  await s?.[Symbol.asyncDispose]();
});

test("node killed during a relay transfer and restarted: recorders re-register unaided; the send completes byte-identical or fails clearly, never half-filed", async () => {
  const alice = s.recorder("alice");
  const bob = s.recorder("bob");
  const file = await s.randomFile("outage.bin", SIZE);
  const sha = await sha256File(file);
  // 40 ms each way on alice's access link: the upload (everything through the relay, bob's NAT refuses the
  // direct dial and cannot be punched) lasts long enough to be cut in the middle.
  await using _slow = await s.bed.impair(1, {
    up: { delayMs: 40, lossPercent: 0 },
    down: { delayMs: 40, lossPercent: 0 },
  });
  const sending = s.recorderRun("alice", ["send", file, "--to", "bob", "--json"]);
  const cutAt = await waitFor(
    "the relay upload to be under way at the node",
    async () => {
      const sizes = await s.spoolSizes();
      return sizes.some((n) => n >= SIZE / 6) ? sizes : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 20 },
  );
  const marks = { alice: alice.proc.mark(), bob: bob.proc.mark() };
  await s.node.stop("SIGKILL");
  // Cut in the middle, not after the end: otherwise this test would prove nothing about the outage.
  expect(Math.max(...cutAt)).toBeLessThan(SIZE);

  // Both recorders notice the node is gone (unanswered keepalives, interval halving to the floor).
  await alice.proc.waitForLine(/ recorder mapping-lost /, { since: marks.alice, timeoutMs: 20_000 });
  await bob.proc.waitForLine(/ recorder mapping-lost /, { since: marks.bob, timeoutMs: 20_000 });
  expect((await s.status("alice")).daemon?.nodeReachable).toBe(false);

  await s.restartNode();
  // No operator action: each recorder's next keepalive is answered, it logs node-back and registers again.
  for (const r of [alice, bob]) {
    await r.proc.waitForLine(/ recorder node-back /, {
      since: marks[r.name as "alice" | "bob"],
      timeoutMs: 15_000,
    });
    await r.proc.waitForLine(/ recorder registered .*reason="node answered again"/, {
      since: marks[r.name as "alice" | "bob"],
      timeoutMs: 15_000,
    });
  }
  for (const name of ["alice", "bob"]) {
    const d = await s.waitRegistered(name);
    expect(d.keepalive?.address).toBe(s.bed.home(s.recorder(name).home).wanAddr);
  }

  const run = await sending;
  const summary = summaryOf(run.stdout);
  if (run.code === 0) {
    expect(summary.ok).toBe(true);
    const filed = (await s.library("bob")).find((r) => r.sha256 === sha);
    expect(filed?.size).toBe(SIZE);
    expect(await sha256File(filed?.path ?? "")).toBe(sha);
  } else {
    // A clear error: a stable code and a sentence, and nothing of it in bob's library.
    expect(summary.ok).toBe(false);
    expect(summary.code).toMatch(/^[a-z0-9_]+$/);
    expect(summary.message.length).toBeGreaterThan(10);
    expect((await s.library("bob")).some((r) => r.sha256 === sha)).toBe(false);
  }
  console.log(
    `node outage: cut at ${Math.max(...cutAt)} of ~${SIZE} bytes; send exit ${run.code} ${summary.code ?? "ok"}: ${summary.message}; ${run.stdout.includes("resuming at byte") ? "upload resumed" : "no resume logged"}`,
  );
  await waitFor("bob's temp files to go", async () => (await s.incomingLeftovers("bob")).length === 0);
  // bob's log agrees with the sender: filed exactly when the send says so.
  expect(events(bob, "filed").some((l) => l.includes("outage.bin"))).toBe(run.code === 0);
}, 90_000);
