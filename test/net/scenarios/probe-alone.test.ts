/** @module Scenario, on its own: the node's TCP probe (seed A variation 11, S1901) against a callee whose keepalive is fresh but whose direct port is unreachable. */
import { afterEach, describe, expect, test } from "bun:test";
import { summaryOf } from "../../support/send-summary.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario | undefined;

afterEach(async () => {
  await s?.[Symbol.asyncDispose]();
  s = undefined;
});

/**
 * Bob behind his NAT with no port forward: his keepalives reach the node (the NAT keeps the UDP mapping), so
 * he is "connected" by keepalive, but his registered direct port (router's wan address, listener's port)
 * drops every SYN from outside.
 */
async function bobBehindNat(tcpProbe: boolean): Promise<Scenario> {
  const sc = await Scenario.start({ udpTimeoutSec: 12, nodeConfig: { tcpProbe, tcpProbeTimeoutMs: 1000 } });
  s = sc;
  await sc.addRecorder("alice", 1);
  await sc.addRecorder("bob", 2);
  await sc.recorderOk("bob", ["permit", "add", "alice"]);
  const bob = await sc.device("bob");
  expect(bob.connected).toBe(true);
  expect(bob.registration?.address).toBe(sc.bed.home(2).wanAddr);
  return sc;
}

describe("the probe alone (A variation 11, S1901-S1902)", () => {
  test("a probing node answers callee_not_connected for a fresh keepalive and an unreachable direct port", async () => {
    const sc = await bobBehindNat(true);
    const file = await sc.randomFile("note.bin", 50_000);
    const run = await sc.recorderRun("alice", ["send", file, "--to", "bob", "--json"]);
    expect(run.code).toBe(1);
    expect(summaryOf(run.stdout).code).toBe("callee_not_connected");
    // The node refused before issuing anything: no session, and bob never heard of it.
    expect(await sc.cluster.admin.sessions()).toEqual([]);
    expect(events(sc.recorder("bob"), "direct-accepted")).toEqual([]);
  }, 90_000);

  // Without the probe the node issues the session, and the two recorders punch through the NATs (issue 15):
  // the probe judges only the registered TCP port, so it refuses callees that a punch would have reached.
  test("a non-probing node issues the session, and the send gets through over the punched path", async () => {
    const sc = await bobBehindNat(false);
    const file = await sc.randomFile("note.bin", 50_000);
    const run = await sc.recorderRun("alice", ["send", file, "--to", "bob", "--json"]);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.ok).toBe(true);
    expect(summary).toMatchObject({
      fallback: false,
      directPath: "punched",
      bytesDirect: 50_000,
      bytesRelay: 0,
    });
    expect((await sc.library("bob")).some((r) => r.sha256 === summary.sha256)).toBe(true);
  }, 90_000);
});
