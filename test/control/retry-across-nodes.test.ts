/** @module Integration (issue 16 item 3): a recorder's client retries a call that failed before any answer on its next node URL, and calls that create something are idempotent across the retry. Real node process, real sockets. */
import { expect, test } from "bun:test";
import { AdminClient } from "../../protocol/admin-client.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { nodeFetch } from "../../protocol/node-fetch.ts";
import { AnswerDroppingProxy } from "../support/answer-dropping-proxy.ts";
import { startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { freePort } from "../support/free-port.ts";

const TRUST = { kind: "insecure-http" } as const;

/** A plain-HTTP node (so the proxy sees answers, not a TLS handshake), alice permitted to reach bob, bob online. */
async function stage() {
  const node = await startNode({ extraArgs: ["--insecure-http"], config: { triggerDeadlineMs: 1500 } });
  const url = `http://${node.httpAddr}`;
  const alice = await node.enroll("alice");
  const bob = await node.enroll("bob");
  const clientOf = (cred: { id: string; secret: string }, urls: string[]) =>
    new ControlClient({
      baseUrl: urls[0]!,
      fallbackUrls: urls.slice(1),
      deviceId: cred.id,
      secret: cred.secret,
      trust: TRUST,
    });
  const b = clientOf(bob, [url]);
  await b.updateAllowList({ create: ["alice"] });
  await b.register("127.0.0.1", 9);
  const agent = await DeviceAgent.start(bob, node.udp);
  await agent.keepalive();
  const admin = new AdminClient(url, node.adminToken, nodeFetch(TRUST));
  return { node, url, alice, agent, admin, clientOf };
}

test("a client with two node URLs whose first is down succeeds on the second, and keeps using it", async () => {
  const { node, url, alice, agent, clientOf } = await stage();
  await using _node = node;
  await using _agent = agent;
  const down = `http://127.0.0.1:${await freePort()}`;
  const a = clientOf(alice, [down, url]);
  const q = await a.query("bob");
  expect(q.status).toBe(200);
  const t = await a.createTransfer({ session: q.session.id, size: 10, kind: "relay" });
  expect(t.transfer.size).toBe(10);
  // A client whose only URL is down fails with the connection error, not with a made-up answer.
  const lone = clientOf(alice, [down]);
  expect(await lone.query("bob").catch((e: unknown) => (e as { code?: string }).code)).toMatch(
    /ConnectionRefused|ECONNREFUSED/,
  );
});

test("an answer lost after the node acted: the retried QUERY leaves one live session, the retried create returns the same transfer, the retried end counts once", async () => {
  const { node, url, alice, agent, admin, clientOf } = await stage();
  await using _node = node;
  await using _agent = agent;
  await using proxy = await AnswerDroppingProxy.start(node.http);
  // The first URL reaches the node, which does the work, but its answer never arrives; the second is direct.
  const a = clientOf(alice, [proxy.url, url]);
  const q = await a.query("bob");
  expect(q.status).toBe(200);
  expect(proxy.answersDropped).toBe(1);
  const sessions = (await admin.sessions()).filter((s) => s.caller.id === alice.id);
  expect(sessions).toHaveLength(2);
  const live = sessions.filter((s) => s.state === "active");
  expect(live.map((s) => s.id)).toEqual([q.session.id]);
  const superseded = sessions.find((s) => s.id !== q.session.id)!;
  expect(superseded).toMatchObject({ state: "ended", reason: "superseded" });
  // The superseded session has its one accounting row (ended by the node); the live one has none until it ends.
  const log = await admin.accounting({ device: alice.id });
  expect(log.filter((e) => e.sessionId === superseded.id)).toEqual([
    expect.objectContaining({ endedBy: "node", reason: "superseded", caller: null, callee: null }),
  ]);
  expect(log.filter((e) => e.sessionId === q.session.id)).toEqual([]);

  // The client stays on the node that answered; a call through the proxy again shows the create's retry.
  const b = clientOf(alice, [proxy.url, url]);
  const t = await b.createTransfer({ session: q.session.id, size: 1000, kind: "relay" });
  expect(proxy.answersDropped).toBe(2);
  const items = await admin
    .raw("GET", "/admin/spool/items")
    .then((r) => r.json() as Promise<Array<{ id: string }>>);
  expect(items.map((i) => i.id)).toEqual([t.transfer.id]);
  // The end report's answer is lost too: the node logged it, the client sends it again to the other URL, and
  // the repeat is answered like the first without counting twice.
  const c = clientOf(alice, [proxy.url, url]);
  const report = { reason: "done", bytesDirect: 4096, directPath: "lan" as const };
  expect(await c.end(q.session.id, report)).toMatchObject({ state: "ended", reason: "done" });
  expect(proxy.answersDropped).toBe(3);
  const after = await admin.accounting({ device: alice.id });
  expect(after.filter((e) => e.sessionId === superseded.id)).toHaveLength(1);
  expect(after.filter((e) => e.sessionId === q.session.id)).toEqual([
    expect.objectContaining({
      endedBy: alice.id,
      reason: "done",
      caller: expect.objectContaining({ reason: "done", bytesDirect: 4096, directPath: "lan" }),
      callee: null,
    }),
  ]);
});
