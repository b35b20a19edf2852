/** @module Scenario: seed A variation 3 through NAT: bob has a port forward and registers a DNS name; the node resolves it (a real DNS responder in the wan namespace) and alice's direct part goes to the forward. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../../support/compiled-binary.ts";
import { summaryOf } from "../../support/send-summary.ts";
import { Scenario } from "./scenario-kit.ts";

const FILE = join(ROOT, "testdata/es/mpeg2-gop15.m2v");
const RESPONDER = join(import.meta.dir, "../../support/dns-responder.ts");
const FORWARDED = 7000;
/** The node's DNS server: a responder on the wan namespace's own loopback (namespaces do not share ports). */
const DNS_PORT = 5353;

let s: Scenario | undefined;

afterEach(async () => {
  await s?.[Symbol.asyncDispose]();
  s = undefined;
});

describe("a DNS name through NAT (A variation 3)", () => {
  test("bob registers bob.dyn.example for his port forward; the node resolves it for alice, whose direct part goes there", async () => {
    s = await Scenario.start({ udpTimeoutSec: 12, nodeConfig: { dnsServer: `127.0.0.1:${DNS_PORT}` } });
    const wan2 = s.bed.home(2).wanAddr;
    const dns = s.bed.runIn(
      s.bed.wan.ns,
      [process.execPath, RESPONDER, String(DNS_PORT), `bob.dyn.example=${wan2}`],
      {
        label: "dns responder",
      },
    );
    await dns.waitForLine(/^listening \d+$/);
    // Bob announces a name, not an address: the forward's public side is only known to DNS.
    const bobFlags = ["--listen", `0.0.0.0:${FORWARDED}`, "--advertise", `bob.dyn.example:${FORWARDED}`];
    await s.bed.portForward(2, { proto: "tcp", wanPort: FORWARDED, lanPort: FORWARDED });
    await s.addRecorder("alice", 1);
    await s.addRecorder("bob", 2, bobFlags);
    await s.recorderOk("bob", ["permit", "add", "alice"]);
    // The node holds the name, not an address; nothing was resolved at registration.
    expect((await s.device("bob")).registration).toMatchObject({
      address: "bob.dyn.example",
      port: FORWARDED,
    });
    expect(dns.lines.filter((l) => l.startsWith("query "))).toEqual([]);

    const run = await s.recorderRun("alice", ["send", FILE, "--to", "bob", "--json"]);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.fallback).toBe(false);
    expect(summary.bytesDirect).toBeGreaterThan(0);
    // The node asked the DNS server when alice's query came, and handed her the resolved address.
    expect(dns.lines).toContain("query bob.dyn.example");
  }, 90_000);
});
