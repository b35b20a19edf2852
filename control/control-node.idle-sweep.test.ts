/** @module Real node process: an idle node removes the partial spool file of a session whose lease ran out, without waiting for a relay request (issue 19 item 10). */
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../demo/wait-for.ts";
import { startNode } from "../test/support/control-node.ts";
import { DeviceAgent } from "../test/support/device-agent.ts";

const MiB = 1024 * 1024;

test("a half-uploaded transfer's .part file goes after its session's lease, on an idle node", async () => {
  await using node = await startNode({ config: { sessionDurationSec: 2, connectWindowSec: 2 } });
  const a = await node.enroll("alice");
  const b = await node.enroll("bob");
  await node.client(b).updateAllowList({ create: ["alice"] });
  await node.client(b).register("127.0.0.1", 9);
  await using agent = await DeviceAgent.start(b, node.udp);
  await agent.keepalive();
  const alice = node.client(a);
  const q = await alice.query("bob");
  if (q.status !== 200) throw new Error("expected a live session");
  const { transfer } = await alice.createTransfer({ session: q.session.id, size: 2 * MiB, kind: "relay" });
  await alice.uploadData(transfer.id, 0, new Uint8Array(MiB));
  const spool = join(node.dataDir, "spool");
  expect(readdirSync(spool).filter((f) => f.endsWith(".part"))).toHaveLength(1);
  // The sender is gone (a Ctrl-C, a crash): no request reaches the relay any more. Only the admin API is asked.
  await waitFor(
    "the node to drop the abandoned partial file",
    async () => (await node.admin.spool()).files === 0,
    {
      timeoutMs: 40_000,
      intervalMs: 500,
    },
  );
  expect(readdirSync(spool).filter((f) => f.endsWith(".part"))).toEqual([]);
  expect(node.stderr()).toContain("abandoned (incomplete, session over)");
}, 60_000);
