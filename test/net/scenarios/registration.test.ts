/** @module Scenario: recorders behind NAT register and keep their mapping; the node and the recorder both see the router's public address. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../../../demo/wait-for.ts";
import { NODE_ADDR } from "../net-bed.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario;

beforeAll(async () => {
  // Router timeout 8 s, keepalive 5 s: only the keepalive keeps the mapping alive past the timeout.
  s = await Scenario.start({ udpTimeoutSec: 8 });
  await s.addRecorder("alice", 1);
  await s.addRecorder("bob", 2);
}, 60_000);

afterAll(async () => {
  await s?.[Symbol.asyncDispose]();
});

describe("registration and keepalive through NAT", () => {
  for (const [name, home] of [
    ["alice", 1],
    ["bob", 2],
  ] as const) {
    test(`the node records ${name}'s router mapping, and ${name} learns its public address`, async () => {
      const h = s.bed.home(home);
      const rec = s.recorder(name);
      const st = await s.status(name);
      const udpPort = st.daemon?.udpPort ?? -1;
      // The router's own view: the keepalive flow from the LAN host to the node, and the public port it got.
      const nodeUdpPort = Number(s.udp.split(":")[1]);
      const flows = (await s.bed.mappings(home)).filter(
        (m) =>
          m.proto === "udp" &&
          m.orig.src === h.lanAddr &&
          m.orig.sport === udpPort &&
          m.orig.dst === NODE_ADDR &&
          m.orig.dport === nodeUdpPort,
      );
      expect(flows).toHaveLength(1);
      const publicPort = flows[0]?.reply.dport;
      expect(flows[0]?.reply.dst).toBe(h.wanAddr);

      const d = await s.device(name);
      expect(d.connected).toBe(true);
      // Keepalive mapping = the router's public side, never the LAN address.
      expect(d.keepalive).toMatchObject({ address: h.wanAddr, port: publicPort, intervalSec: 5 });
      expect(d.registration?.address).toBe(h.wanAddr);
      expect(JSON.stringify(d)).not.toContain(h.lanAddr);

      // The recorder's own status (what `pvrlink recorder status` shows): the same public address.
      expect(st.daemon?.mapped).toBe(`${h.wanAddr}:${publicPort}`);
      expect(st.daemon?.registered?.address).toBe(h.wanAddr);
      expect(st.daemon?.nodeReachable).toBe(true);
      expect(events(rec, "mapping ")[0]).toContain(`mapped=${h.wanAddr}:${publicPort}`);
      expect(events(rec, "registered")[0]).toContain(`address=${h.wanAddr}:`);

      const human = await s.recorderOk(name, ["recorder", "status"]);
      expect(human).toContain(`public address (keepalive): ${h.wanAddr}:${publicPort}`);
    });
  }

  test("keepalives hold one mapping for longer than the router's 8 s timeout (no re-mapping, no re-registration)", async () => {
    const alice = s.recorder("alice");
    const before = await s.device("alice");
    const mark = alice.proc.mark();
    const t0 = before.keepalive?.at ?? 0;
    // Two more keepalives: the node's record moves forward in time, the public address:port stays.
    const after = await waitFor(
      "two more keepalives from alice",
      async () => {
        const d = await s.device("alice");
        return (d.keepalive?.at ?? 0) >= t0 + 9_000 ? d : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(after.connected).toBe(true);
    expect(after.keepalive?.address).toBe(before.keepalive?.address);
    expect(after.keepalive?.port).toBe(before.keepalive?.port);
    expect(after.registration).toEqual(before.registration);
    expect(events(alice, "mapping-changed", mark)).toEqual([]);
    expect(events(alice, "keepalive-unanswered", mark)).toEqual([]);
    expect(events(alice, "registered", mark)).toEqual([]);
  }, 30_000);
});
