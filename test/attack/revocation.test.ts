/** @module Attack (issue 21 item 3), compiled binary: bob removes alice, then alice uses the grant she already holds. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import { loadOrCreateIdentity } from "../../firmware/identity/identity-key-file.ts";
import { transferKeyFor } from "../../firmware/identity/transfer-key.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { startAliceAndBob } from "../support/e2e-stage.ts";
import { clientOf, recorderLogged } from "./attack-kit.ts";

let cluster: Cluster;
let alice: ControlClient;

beforeAll(async () => {
  cluster = await startAliceAndBob();
  alice = await clientOf(cluster, "alice");
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

/** alice dials bob with the password and key she already holds: "accepted", or why the handshake failed. */
async function dialWithHeldGrant(q: Awaited<ReturnType<typeof outstandingGrant>>): Promise<string> {
  // The key alice's own `send` would use: the node's session key mixed with the two recorders' agreement.
  const me = await loadOrCreateIdentity(cluster.recorder("alice").dataDir);
  const key = await transferKeyFor(me, q.session, { publicKey: q.callee.publicKey, role: "callee" });
  const dial = dialDirect({
    host: q.callee.address!,
    port: q.callee.port!,
    sessionId: q.session.id,
    password: q.session.password,
    contact: { connectBy: q.session.connectBy, ticket: q.session.contactTicket ?? "" },
    key,
    callerId: (await alice.session(q.session.id)).caller.id,
    timeoutMs: 5000,
  });
  return dial.then(
    (c) => {
      void c.close("test done");
      return "accepted";
    },
    (err: Error) => err.message,
  );
}

/** alice queries bob and waits until bob's recorder holds the session's ticket (the grant is outstanding). */
async function outstandingGrant() {
  const q = await alice.query("bob");
  if (q.status !== 200) throw new Error("expected a live session");
  await recorderLogged(cluster, "bob", "recorder session ", q.session.id);
  return q;
}

test("after bob's `permit remove alice` her held grant is dead: no direct handshake, extension, transfer or upload", async () => {
  const q = await outstandingGrant();
  const { transfer } = await alice.createTransfer({ session: q.session.id, size: 1000, kind: "relay" });
  const r = await cluster.recorderRun("bob", ["permit", "remove", "alice"]);
  expect(r.code).toBe(0);

  expect(await dialWithHeldGrant(q)).not.toBe("accepted");
  expect(await outcomeOf(alice.extend(q.session.id))).toBe("409 extension_refused");
  expect(await outcomeOf(alice.createTransfer({ session: q.session.id, size: 1000, kind: "relay" }))).toBe(
    "409 session_ended",
  );
  expect(await outcomeOf(alice.uploadData(transfer.id, 0, new Uint8Array(1000)))).toBe(
    "404 transfer_not_found",
  );
  expect(await alice.session(q.session.id)).toMatchObject({ state: "ended", reason: "revoked" });
  const log = await cluster.admin.accounting({});
  expect(log.find((e) => e.sessionId === q.session.id)).toMatchObject({
    endedBy: "node",
    reason: "revoked",
    revokedAt: expect.any(Number),
  });
});

test("a caller still permitted through another entry keeps its session", async () => {
  await cluster.permit("bob", "alice");
  const q = await outstandingGrant();
  expect((await cluster.recorderRun("bob", ["permit", "add", "dave"])).code).toBe(0);
  expect((await alice.extend(q.session.id)).extensions).toBe(1);
  expect((await alice.session(q.session.id)).state).toBe("active");
});

test("under policy device, bob's own `permit remove alice` denies her held grant as revoked and ends the session at the node", async () => {
  const bob = (args: string[]) => cluster.recorderRun("bob", ["permit", ...args]);
  expect((await bob(["policy", "device"])).code).toBe(0);
  expect((await bob(["add", "alice"])).code).toBe(0);
  const q = await outstandingGrant();
  expect((await bob(["remove", "alice"])).code).toBe(0);

  expect(await dialWithHeldGrant(q)).toContain("revoked");
  await waitFor(
    "the node to end the session",
    async () => (await alice.session(q.session.id)).state === "ended",
  );
  expect(await alice.session(q.session.id)).toMatchObject({ state: "ended", reason: "revoked" });
  expect(await outcomeOf(alice.extend(q.session.id))).toBe("409 extension_refused");
  expect(await outcomeOf(alice.createTransfer({ session: q.session.id, size: 1000, kind: "relay" }))).toBe(
    "409 session_ended",
  );
  // Back to the node-held list for the next test.
  expect((await bob(["policy", "node"])).code).toBe(0);
  await cluster.permit("bob", "alice");
});

test("deleting the caller's device ends its sessions and the callee's recorder drops the ticket", async () => {
  const q = await outstandingGrant();
  const aliceId = (await alice.session(q.session.id)).caller.id;
  await cluster.admin.removeDevice(aliceId);
  await recorderLogged(cluster, "bob", "recorder session-ended", q.session.id);
  expect((await cluster.admin.sessions("active")).map((s) => s.id)).not.toContain(q.session.id);
});
