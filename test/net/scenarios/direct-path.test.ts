/** @module Scenarios: the direct connection blocked by NAT falls back to the encrypted relay; a port forward on the callee's router carries the direct part. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../support/compiled-binary.ts";
import { sha256File } from "../../support/left-behind.ts";
import { summaryOf } from "../../support/send-summary.ts";
import { events, Scenario } from "./scenario-kit.ts";

const FILE = join(ROOT, "testdata/es/mpeg2-gop15.m2v");
const FORWARDED = 7000;

let s: Scenario | undefined;

afterEach(async () => {
  await s?.[Symbol.asyncDispose]();
  s = undefined;
});

async function expectFiledIdentical(sc: Scenario, sha: string): Promise<void> {
  const filed = (await sc.library("bob")).find((r) => r.sha256 === sha);
  expect(filed?.sender).toBe("alice");
  expect(await sha256File(filed?.path ?? "")).toBe(await sha256File(FILE));
  expect(await sc.incomingLeftovers("bob")).toEqual([]);
}

describe("the direct path through NAT", () => {
  test("a direct connection blocked by bob's NAT falls back to the encrypted relay, byte-identical; CLI and accounting say so", async () => {
    // Symmetric NAT on bob's side: neither a TCP dial nor a UDP punch can reach him (punched-path.test.ts has
    // the routers a punch gets through).
    s = await Scenario.start({ udpTimeoutSec: 12, routers: [{}, { mapping: "random" }] });
    await s.addRecorder("alice", 1);
    const bob = await s.addRecorder("bob", 2);
    await s.recorderOk("bob", ["permit", "add", "alice"]);
    const registered = await s.device("bob");
    // bob registered his router's public address with his listener's port: nothing forwards it.
    expect(registered.registration?.address).toBe(s.bed.home(2).wanAddr);

    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob"]);
    expect(run.code).toBe(0);
    // What the user reads (not a terminal: log lines on stderr, the summary on stdout).
    expect(run.stderr).toContain("direct connection to bob failed");
    expect(run.stderr).toContain("sending everything through the node, encrypted");
    expect(run.stdout).toMatch(/^sent: /);
    expect(run.stdout).toContain("route split; fallback: everything through the node");
    expect(run.stdout).toContain("direct: nothing (all of it sealed through the node)");
    expect(events(bob, "direct-accepted")).toEqual([]);

    const sha = await sha256File(FILE);
    await expectFiledIdentical(s, sha);
    // The accounting log: the session ended "done", nothing direct, everything relayed.
    // Both peers reported (caller: sealed bytes uploaded; callee: payload bytes it fetched), none direct.
    const acc = await s.accounting();
    expect(acc).toHaveLength(1); // one row per session, both reports in it
    expect(acc[0]).toMatchObject({ callerId: s.recorder("alice").id, calleeId: bob.id, reason: "done" });
    const size = Bun.file(FILE).size;
    for (const e of [acc[0]!.caller, acc[0]!.callee]) {
      expect(e?.reason).toBe("done");
      expect(e?.bytesDirect).toBe(0);
      expect(e?.bytesRelay).toBeGreaterThanOrEqual(size);
    }
  }, 60_000);

  test("a port forward on bob's router: the direct part goes straight to the forwarded port", async () => {
    s = await Scenario.start({ udpTimeoutSec: 12 });
    await s.bed.portForward(2, { proto: "tcp", wanPort: FORWARDED, lanPort: FORWARDED });
    const wan2 = s.bed.home(2).wanAddr;
    await s.addRecorder("alice", 1);
    const bob = await s.addRecorder("bob", 2, [
      "--listen",
      `0.0.0.0:${FORWARDED}`,
      "--advertise",
      `${wan2}:${FORWARDED}`,
    ]);
    await s.recorderOk("bob", ["permit", "add", "alice"]);
    expect((await s.device("bob")).registration).toMatchObject({ address: wan2, port: FORWARDED });

    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.route).toBe("split");
    expect(summary.fallback).toBe(false);
    // The port forward beats the punched path that both sides also opened (docs/protocol.md 13.4).
    expect(summary.directPath).toBe("port-forward");
    expect(summary.bytesDirect).toBeGreaterThan(0);
    expect(summary.bytesRelay).toBeGreaterThan(0);
    // bob saw alice arrive from her router's public address: a real crossing of both NATs.
    const [accepted] = events(bob, "direct-accepted");
    expect(accepted).toContain(`remote=${s.bed.home(1).wanAddr}:`);
    await expectFiledIdentical(s, summary.sha256);

    const acc = (await s.accounting()).filter((e) => e.sessionId === summary.sessionId);
    expect(acc).toHaveLength(1);
    expect(acc[0]).toMatchObject({ callerId: s.recorder("alice").id, calleeId: bob.id });
    for (const e of [acc[0]!.caller, acc[0]!.callee]) {
      expect(e?.reason).toBe("done");
      expect(e?.bytesDirect).toBe(summary.bytesDirect);
      expect(e?.directPath).toBe("port-forward");
      expect(e?.bytesRelay).toBeGreaterThan(0);
    }
  }, 60_000);
});
