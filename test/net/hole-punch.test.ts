/** @module Hole punching and QUIC through the bed's routers of each behaviour, with real processes and real NAT. */
import { describe, expect, test } from "bun:test";
import { createNetBed } from "./net-bed.ts";
import { runPunchPair } from "./punch-kit.ts";
import type { MappingBehaviour } from "./source-nat.ts";

describe("hole punch through NAT routers", () => {
  test("endpoint-independent mapping, unsolicited dropped: punched QUIC in under 1 s, byte-identical", async () => {
    await using bed = await createNetBed({ unsolicited: "drop", udpTimeoutSec: 5 });
    const r = await runPunchPair(bed, { caller: bed.home(1), callee: bed.home(2), mib: 8 });
    expect(r.failure).toBeUndefined();
    expect(r.via).toBe("mapping");
    expect(r.remote).toMatch(/^100\.64\.2\.2:\d+$/); // the callee's router, never its LAN address
    expect(r.acceptedMs!).toBeLessThan(1000);
    expect(r.received!.bytes).toBe(8 * 1024 * 1024);
    expect(r.received!.sha256).toBe(r.sent!.sha256);
  }, 60_000);

  test("routers that answer unsolicited packets (ICMP/RST): the callee-first low-TTL punch still goes direct", async () => {
    await using bed = await createNetBed({ unsolicited: "answer", udpTimeoutSec: 5 });
    const r = await runPunchPair(bed, { caller: bed.home(1), callee: bed.home(2), mib: 4 });
    expect(r.failure).toBeUndefined();
    expect(r.via).toBe("mapping");
    expect(r.received!.sha256).toBe(r.sent!.sha256);
  }, 60_000);

  // The other side endpoint-independent; the address-dependent side's probes leave from a port the node never
  // saw, which the other router's address-and-port-dependent filter drops (docs/nat.md, "Hole punching").
  const unpunchable: Array<[string, 0 | 1, MappingBehaviour]> = [
    ["symmetric NAT (masquerade random) on the callee's side", 1, "random"],
    ["symmetric NAT (masquerade random) on the caller's side", 0, "random"],
    ["address-dependent mapping on the callee's side", 1, "address-dependent"],
    ["address-dependent mapping on the caller's side", 0, "address-dependent"],
  ];
  for (const [what, index, mapping] of unpunchable) {
    test(`${what}: ERR_DIRECT_PUNCH within the deadline, nothing sent`, async () => {
      const routers: Array<{ mapping?: MappingBehaviour }> = [{}, {}];
      routers[index] = { mapping };
      await using bed = await createNetBed({ unsolicited: "drop", routers });
      const r = await runPunchPair(bed, {
        caller: bed.home(1),
        callee: bed.home(2),
        mib: 1,
        deadlineMs: 3000,
      });
      expect(r.failure).toMatch(/^ERR_DIRECT_PUNCH /);
      expect(r.failure).not.toContain("peer heard"); // both ways filtered, not just one
      expect(r.sent).toBeUndefined();
      // Bun start-up + mapping exchange + the 3 s punch deadline; the relay then takes over in a real send.
      expect(r.wallMs).toBeLessThan(5000);
      expect(r.callee.lines.some((l) => l.startsWith("received"))).toBe(false);
    }, 60_000);
  }

  test("two recorders behind one router without hairpinning: direct over the LAN", async () => {
    await using bed = await createNetBed({ lanHosts: 2, unsolicited: "drop" });
    const r = await runPunchPair(bed, { caller: bed.home(1), callee: bed.lanHost(2), mib: 4 });
    expect(r.failure).toBeUndefined();
    expect(r.via).toBe("lan");
    expect(r.remote).toMatch(/^192\.168\.1\.3:\d+$/);
    expect(r.received!.sha256).toBe(r.sent!.sha256);
  }, 60_000);

  test("homes with identical LAN subnets get no LAN candidate: the mapping is used", async () => {
    await using bed = await createNetBed({ lanSubnets: "identical", unsolicited: "drop" });
    const r = await runPunchPair(bed, { caller: bed.home(1), callee: bed.home(2), mib: 1 });
    expect(r.via).toBe("mapping");
    expect(r.caller.lines.join("\n")).not.toContain("192.168.");
    expect(r.received!.sha256).toBe(r.sent!.sha256);
  }, 60_000);
});
