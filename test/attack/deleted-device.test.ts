/** @module Attack (issue 21 item 4), real node process: a deleted device keeps using its cached keys, and a peer reports byte counts the node never carried. */
import { expect, test } from "bun:test";
import { outcomeOf } from "../support/api-outcome.ts";
import { startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

test("DELETE /admin/devices/:id ends the device's HTTP and STUN keys at once, and the byte counts it would report are not believed", async () => {
  await using node = await startNode({ config: { rateLimitPerSec: 500, rateLimitBurst: 1000 } });
  const a = await node.enroll("mallory");
  const b = await node.enroll("bob");
  const bob = node.client(b);
  await bob.updateAllowList({ create: ["mallory"] });
  await bob.register("127.0.0.1", 9);
  await using bobAgent = await DeviceAgent.start(b, node.udp);
  await using agent = await DeviceAgent.start(a, node.udp);
  await bobAgent.keepalive();
  // Warm both key caches: a signed request and an answered keepalive.
  await agent.keepalive();
  const mallory = node.client(a);
  const q = await mallory.query("bob");
  if (q.status !== 200) throw new Error("expected a live session");

  await node.admin.removeDevice(a.id);

  expect(
    await agent.keepalive().then(
      () => "answered",
      (err: Error) => err.message,
    ),
  ).toContain("401 Unauthenticated");
  const attempts: [string, () => Promise<unknown>][] = [
    ["extend", () => mallory.extend(q.session.id)],
    ["relay transfer", () => mallory.createTransfer({ session: q.session.id, size: 10, kind: "relay" })],
    ["store transfer", () => mallory.createTransfer({ session: q.session.id, size: 10, kind: "store" })],
    [
      "end with 999,999,999,999 direct bytes",
      () => mallory.end(q.session.id, { reason: "done", bytesDirect: 999_999_999_999 }),
    ],
    ["allow-list", () => mallory.allowList()],
  ];
  for (const [what, call] of attempts) {
    expect({ what, outcome: await outcomeOf(call()) }).toEqual({ what, outcome: "401 unknown_device" });
  }
  const log = await node.admin.accounting({});
  expect(
    log.filter((e) => e.caller?.bytesDirect === 999_999_999_999 || e.callee?.bytesDirect === 999_999_999_999),
  ).toEqual([]);

  // A device still enrolled may report what it likes; the log keeps what the node can check and says so.
  const c = await node.enroll("carol");
  await bob.updateAllowList({ add: ["carol"] });
  const carol = node.client(c);
  const q2 = await carol.query("bob");
  if (q2.status !== 200) throw new Error("expected a live session");
  await carol.end(q2.session.id, {
    reason: "done",
    bytesDirect: 999_999_999_999,
    bytesRelay: 999_999_999_999,
  });
  const entry = (await node.admin.accounting({ device: c.id })).find((e) => e.sessionId === q2.session.id);
  expect(entry).toMatchObject({ bytesRelayNode: 0, caller: { bytesDirect: 999_999_999_999, bytesRelay: 0 } });
  expect(entry?.caller?.note).toContain("bytesRelay capped at the 0 the node carried");
  expect(entry?.caller?.note).toContain("bytesDirect is the reporter's claim, unverified");
});
