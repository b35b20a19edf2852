/** @module Attack (issue 21 item 11), real node process: a sender cannot cancel, and an abandoned reservation held its quota for 7 days. */
import { expect, test } from "bun:test";
import type { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const MiB = 1024 * 1024;

async function stage(node: NodeProcess) {
  const a = await node.enroll("alice");
  const b = await node.enroll("bob");
  await node.client(b).updateAllowList({ create: ["alice"] });
  await node.client(b).register("127.0.0.1", 9);
  const agent = await DeviceAgent.start(b, node.udp);
  await agent.keepalive();
  return { alice: node.client(a), agent };
}

async function session(alice: ControlClient): Promise<string> {
  const q = await alice.query("bob");
  if (q.status !== 200) throw new Error("expected a live session");
  return q.session.id;
}

test("the sender cancels a half-uploaded transfer and its quota is free at once; the receiver cannot cancel", async () => {
  await using node = await startNode({ config: { relayQuotaBytes: 8 * MiB } });
  const { alice, agent } = await stage(node);
  await using _agent = agent;
  const s = await session(alice);
  const { transfer } = await alice.createTransfer({ session: s, size: 6 * MiB, kind: "relay" });
  await alice.uploadData(transfer.id, 0, new Uint8Array(3 * MiB));
  expect(await outcomeOf(alice.createTransfer({ session: s, size: 6 * MiB, kind: "relay" }))).toBe(
    "507 quota_exceeded",
  );
  const res = await alice.raw("DELETE", `/v1/transfers/${transfer.id}`);
  expect(res.status).toBe(204);
  expect(await outcomeOf(alice.transfer(transfer.id))).toBe("404 transfer_not_found");
  expect(await outcomeOf(alice.createTransfer({ session: s, size: 6 * MiB, kind: "relay" }))).toBe("ok");
});

test("an incomplete transfer whose session ended is abandoned: its reservation goes without waiting 7 days", async () => {
  await using node = await startNode({ config: { relayQuotaBytes: 8 * MiB } });
  const { alice, agent } = await stage(node);
  await using _agent = agent;
  const s = await session(alice);
  await alice.createTransfer({ session: s, size: 6 * MiB, kind: "relay" });
  await alice.end(s, { reason: "sender gave up" });
  const next = await session(alice);
  let outcome = "";
  // The node sweeps on the back of requests, at most every 5 s.
  for (const end = Date.now() + 15_000; outcome !== "ok" && Date.now() < end; await Bun.sleep(250)) {
    outcome = await outcomeOf(alice.createTransfer({ session: next, size: 6 * MiB, kind: "relay" }));
  }
  expect(outcome).toBe("ok");
  expect(node.stderr()).toContain("abandoned (incomplete, session over)");
});
