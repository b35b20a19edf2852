/** @module Scenarios: `pvrlink send` between two homes without port forwards, direct over a punched QUIC path or the relay. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { waitFor } from "../../../demo/wait-for.ts";
import { ROOT } from "../../support/compiled-binary.ts";
import { sha256File } from "../../support/left-behind.ts";
import { summaryOf } from "../../support/send-summary.ts";
import type { NetBedOptions } from "../net-bed.ts";
import { nft } from "../ns-admin.ts";
import { events, Scenario } from "./scenario-kit.ts";

const FILE = join(ROOT, "testdata/es/mpeg2-gop15.m2v");

let s: Scenario | undefined;

afterEach(async () => {
  await s?.[Symbol.asyncDispose]();
  s = undefined;
});

async function twoHomes(bed: NetBedOptions): Promise<Scenario> {
  const sc = await Scenario.start({ udpTimeoutSec: 12, ...bed });
  await sc.addRecorder("alice", 1);
  await sc.addRecorder("bob", 2);
  await sc.recorderOk("bob", ["permit", "add", "alice"]);
  return sc;
}

async function expectFiledIdentical(sc: Scenario, sha: string, file = FILE): Promise<void> {
  const filed = (await sc.library("bob")).find((r) => r.sha256 === sha);
  expect(filed?.sender).toBe("alice");
  expect(await sha256File(filed?.path ?? "")).toBe(await sha256File(file));
  expect(await sc.incomingLeftovers("bob")).toEqual([]);
}

/** Starts alice's send of an n-MiB random file to bob and returns once bob accepted the punched channel. */
async function sendUnderWay(sc: Scenario, name: string, mib: number) {
  const file = await sc.randomFile(name, mib * 1024 * 1024);
  const bob = sc.recorder("bob");
  const send = sc.recorderRun("alice", ["send", file, "--to", "bob", "--json"]);
  await waitFor("bob to accept the punched channel", async () => events(bob, "direct-accepted").length > 0, {
    timeoutMs: 20_000,
    intervalMs: 20,
  });
  return { file, bob, send };
}

/** The punch time alice's send logged: `direct path to bob: punched (quic ..., punched in N ms)`. */
function punchMs(stderr: string): number {
  const m = /direct path to bob: punched \(quic [\d.]+:\d+, punched in (\d+) ms\)/.exec(stderr);
  if (!m) throw new Error(`no punched path in the send's log:\n${stderr.slice(-2000)}`);
  return Number(m[1]);
}

describe("pvrlink send through NAT routers without port forwards", () => {
  const direct: Array<[string, NetBedOptions]> = [
    ["endpoint-independent mapping, unsolicited packets dropped", { unsolicited: "drop" }],
    ["routers that answer unsolicited packets (ICMP/RST)", { unsolicited: "answer" }],
  ];
  for (const [what, bed] of direct) {
    test(`${what}: P/B pictures direct over punched QUIC in under 1 s, I-pictures through the relay`, async () => {
      s = await twoHomes(bed);
      const bob = s.recorder("bob");
      const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
      expect(run.code).toBe(0);
      const summary = summaryOf(run.stdout);
      expect(summary.route).toBe("split");
      expect(summary.fallback).toBe(false);
      expect(summary.directPath).toBe("punched");
      expect(summary.bytesDirect).toBeGreaterThan(0);
      expect(summary.bytesRelay).toBeGreaterThan(0); // the I-picture part, sealed through the node
      expect(punchMs(run.stdout)).toBeLessThan(1000);
      expect(run.stderr).not.toContain("ExperimentalWarning");
      // bob accepted alice's REQUEST from her router's public address, over QUIC on his punched port.
      expect(events(bob, "punched")[0]).toContain(`remote=${s.bed.home(1).wanAddr}:`);
      expect(events(bob, "direct-accepted")[0]).toContain(`remote=${s.bed.home(1).wanAddr}:`);
      await expectFiledIdentical(s, summary.sha256);
      const acc = (await s.accounting()).filter((e) => e.sessionId === summary.sessionId);
      expect(acc.length).toBe(1);
      for (const e of [acc[0]!.caller, acc[0]!.callee]) {
        expect(e?.bytesDirect).toBe(summary.bytesDirect);
        expect(e?.directPath).toBe("punched"); // both reports: alice from her send, bob from his listener
      }
    }, 60_000);
  }

  // Routers the punch cannot pass (docs/nat.md, "Hole punching"), each on one side, the other endpoint-independent.
  const unpunchable: Array<[string, NonNullable<NetBedOptions["routers"]>]> = [
    ["symmetric NAT (masquerade random) on bob's side", [{}, { mapping: "random" }]],
    ["symmetric NAT on alice's side", [{ mapping: "random" }, {}]],
    ["address-dependent mapping on bob's side", [{}, { mapping: "address-dependent" }]],
    ["address-dependent mapping on alice's side", [{ mapping: "address-dependent" }, {}]],
  ];
  for (const [what, routers] of unpunchable) {
    test(`${what}: the relay within the deadline, direct 0, no address leaked`, async () => {
      s = await twoHomes({ unsolicited: "drop", routers });
      const started = performance.now();
      const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
      const elapsed = performance.now() - started;
      expect(run.code).toBe(0);
      const summary = summaryOf(run.stdout);
      expect(summary.fallback).toBe(true);
      // The punch gave up at its own 3 s deadline, alice never having heard bob ("peer heard" would follow).
      expect(summary.fallbackReason).toMatch(
        /Cannot punch a path to the peer: no confirmation within 3000 ms \(\d+ probes sent\)/,
      );
      expect(summary.bytesDirect).toBe(0);
      expect(summary.directPath).toBeUndefined();
      // bob's registered TCP address is behind a router that drops SYNs: once the punch gave up, the connect
      // got its short tail (firmware/send/choose-direct-path.ts), not its 5 s timeout.
      expect(summary.fallbackReason).toContain("did not answer a TCP connect");
      expect(elapsed).toBeLessThan(15_000);
      // Nothing leaked: alice never saw bob's LAN address.
      expect(`${run.stdout}\n${run.stderr}`).not.toContain(s.bed.home(2).lanAddr);
      await expectFiledIdentical(s, summary.sha256);
      for (const x of (await s.accounting()).filter((x) => x.sessionId === summary.sessionId)) {
        for (const e of [x.caller, x.callee].filter((r) => r !== null)) {
          expect(e.bytesDirect).toBe(0);
          expect(e.directPath).toBeNull();
        }
      }
    }, 60_000);
  }

  test("two recorders behind one router without hairpinning: the direct part goes over the LAN", async () => {
    s = await Scenario.start({ udpTimeoutSec: 12, homes: 1, lanHosts: 2, unsolicited: "drop" });
    await s.addRecorder("alice", 1);
    const bob = await s.addRecorder("bob", 2);
    await s.recorderOk("bob", ["permit", "add", "alice"]);
    // Both register the one public address: the node cannot tell their LAN addresses apart from it.
    expect((await s.device("bob")).registration?.address).toBe(s.bed.home(1).wanAddr);
    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.fallback).toBe(false);
    expect(summary.directPath).toBe("lan");
    expect(summary.bytesDirect).toBeGreaterThan(0);
    expect(run.stdout).toContain(`direct path to bob: lan (quic ${s.bed.lanHost(2).lanAddr}:`);
    expect(events(bob, "direct-accepted")[0]).toContain(`remote=${s.bed.home(1).lanAddr}:`);
    await expectFiledIdentical(s, summary.sha256);
    for (const x of (await s.accounting()).filter((x) => x.sessionId === summary.sessionId)) {
      for (const e of [x.caller, x.callee].filter((r) => r !== null)) expect(e.directPath).toBe("lan");
    }
  }, 60_000);

  test("a conntrack flush on both routers mid-transfer: the copy still completes byte-identical", async () => {
    const sc = await twoHomes({ unsolicited: "drop" });
    s = sc;
    // The direct channel is up once bob accepted it; flush then, while the data flows.
    const { file, bob, send } = await sendUnderWay(sc, "flush.bin", 96);
    await Promise.all([sc.bed.flushConntrack(1), sc.bed.flushConntrack(2)]);
    // Mid-transfer: both routers forgot every mapping while bob had not yet filed the file.
    expect(events(bob, "filed")).toEqual([]);
    const run = await send;
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    await expectFiledIdentical(sc, summary.sha256, file);
    expect(summary.bytesDirect + summary.bytesRelayPayload).toBeGreaterThanOrEqual(96 * 1024 * 1024);
  }, 90_000);

  test("the punched path dies for good mid-transfer: the recording is sent again through the relay, byte-identical", async () => {
    const sc = await twoHomes({ unsolicited: "drop" });
    s = sc;
    const { file, send } = await sendUnderWay(sc, "dead.bin", 96);
    // From now on bob's router drops every UDP packet from alice's side: the punched path is gone for good.
    await nft(
      sc.bed.home(2).routerNs,
      `insert rule ip pvrfilter forward ip saddr ${sc.bed.home(1).wanNet} meta l4proto udp drop\n`,
    );
    const run = await send;
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(run.stdout).toContain("broke mid-transfer");
    // The first attempt: punched, cut by QUIC's idle timeout (or by bob's end of the session, whichever came first).
    expect(summary.firstAttempt?.directPath).toBe("punched");
    expect(["direct_failed", "session_ended"]).toContain(summary.firstAttempt?.code ?? "");
    expect(summary.firstAttempt!.bytesDirect).toBeLessThan(96 * 1024 * 1024);
    // The second: a new session, everything sealed through the node.
    expect(summary.sessionId).not.toBe(summary.firstAttempt?.sessionId);
    expect(summary.fallback).toBe(true);
    expect(summary.bytesDirect).toBe(0);
    const filed = (await sc.library("bob")).filter((r) => r.name === "dead.bin");
    expect(filed.length).toBe(1);
    expect(await sha256File(filed[0]!.path)).toBe(await sha256File(file));
    expect(await sc.incomingLeftovers("bob")).toEqual([]);
    const acc = await sc.accounting();
    const first = acc.filter((e) => e.sessionId === summary.firstAttempt?.sessionId);
    // alice's end report of the broken session says what she put on the punched path before it broke.
    const alices = first.find((e) => e.callerId === sc.recorder("alice").id)?.caller;
    expect(alices?.bytesDirect).toBe(summary.firstAttempt!.bytesDirect);
    expect(alices?.directPath).toBe(summary.firstAttempt!.bytesDirect > 0 ? "punched" : null);
  }, 90_000);
});
