/** @module The bed's router behaviours for hole punching: what an unsolicited packet leaves behind, and the shared LAN. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createNetBed, NODE_ADDR } from "./net-bed.ts";
import { exec } from "./run-in.ts";

const PROBE = join(import.meta.dir, "probe.ts");

/** Sends one UDP datagram from namespace ns to address:port with bash's /dev/udp (no socket kept open). */
async function udpOnce(ns: string, address: string, port: number): Promise<void> {
  await exec(["ip", "netns", "exec", ns, "bash", "-c", `printf punch > /dev/udp/${address}/${port}`]);
}

describe("router behaviour toward unsolicited packets", () => {
  const cases: Array<["answer" | "drop", boolean]> = [
    ["answer", true],
    ["drop", false],
  ];
  for (const [unsolicited, tracked] of cases) {
    test(`unsolicited: "${unsolicited}" ${tracked ? "keeps" : "keeps no"} conntrack entry for an unsolicited UDP packet`, async () => {
      await using bed = await createNetBed({ homes: 1, unsolicited, udpTimeoutSec: 30 });
      await udpOnce(bed.wan.ns, bed.home(1).wanAddr, 40_000);
      // An entry for wan -> router:40000 is what takes the public port a home's later outbound flow wanted
      // (docs/nat.md "Hole punching"); the low-TTL phase of the punch exists because of it.
      const entries = await bed.mappings(1);
      const unsolicitedEntry = entries.find((e) => e.proto === "udp" && e.orig.dport === 40_000);
      expect(unsolicitedEntry !== undefined).toBe(tracked);
      expect(unsolicitedEntry?.orig.src).toBe(tracked ? NODE_ADDR : undefined);
    });
  }
});

describe("a shared LAN behind router 1", () => {
  test("lanHosts: 2 puts a second host on router 1's LAN: it reaches home 1's host directly and the wan through NAT", async () => {
    await using bed = await createNetBed({ homes: 1, lanHosts: 2 });
    const second = bed.lanHost(2);
    expect(second.lanAddr).toBe("192.168.1.3");
    expect(bed.host(2)).toBe(second);
    // An echo on home 1's host and one on the node address: each reports the source it saw.
    const echoAt = async (ns: string) => {
      const p = bed.runIn(ns, [process.execPath, PROBE, "udp-echo"]);
      return { p, port: Number((await p.waitForLine(/^listening (\d+)$/))[1]) };
    };
    const lan = await echoAt(bed.home(1).ns);
    const wan = await echoAt(bed.wan.ns);
    await udpOnce(second.ns, bed.home(1).lanAddr, lan.port);
    await udpOnce(second.ns, NODE_ADDR, wan.port);
    // On the LAN the source is the host's own address (a switch, no NAT); on the wan it is the router's.
    await lan.p.waitForLine(new RegExp(`^from ${second.lanAddr.replaceAll(".", "\\.")}:\\d+ punch$`));
    await wan.p.waitForLine(new RegExp(`^from ${bed.home(1).wanAddr.replaceAll(".", "\\.")}:\\d+ punch$`));
    expect(() => bed.lanHost(3)).toThrow(RangeError);
  }, 20_000);
});
