/** @module Integration: the real node process over real HTTP and UDP on 127.0.0.1, driven as recorders and an operator would. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../../demo/wait-for.ts";
import type { SessionGrant } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { nodeStore, STORE_BACKENDS, storeBackend } from "../support/store-backends.ts";

/** startNode's store option, left out for the node's own sqlite file (exactOptionalPropertyTypes). */
function withStore(store: string | undefined): { store?: string } {
  return store === undefined ? {} : { store };
}

describe.each(STORE_BACKENDS)("on %s", (kind) => {
  const backend = storeBackend(kind);
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNode({
      ...withStore(await nodeStore(backend)),
      config: { triggerDeadlineMs: 600, maxExtensions: 1, extensionSec: 600, maxTotalSec: 4200 },
    });
  });
  afterAll(async () => {
    await node?.[Symbol.asyncDispose]();
  });

  interface Peer {
    cred: { id: string; name: string; secret: string };
    api: ControlClient;
    agent: DeviceAgent;
  }

  let n = 0;
  /** Enrolls a device via the CLI, registers it and starts its UDP side (keepalive sent unless told not to). */
  async function peer(o: { keepalive?: boolean; register?: boolean } = {}): Promise<Peer> {
    const cred = await node.enroll(`rec-${++n}-${Date.now() % 1e6}`);
    const api = node.client(cred);
    const agent = await DeviceAgent.start(cred, node.udp);
    if (o.register !== false) await api.register("127.0.0.1", 40000 + n);
    if (o.keepalive !== false) await agent.keepalive();
    return { cred, api, agent };
  }

  /** A caller permitted by a callee (both registered and alive) and the live session the caller's query got. */
  async function livePair(): Promise<
    AsyncDisposable & { caller: Peer; callee: Peer; session: SessionGrant }
  > {
    const caller = await peer();
    const callee = await peer();
    await callee.api.updateAllowList({ create: [caller.cred.name] });
    const r = await caller.api.query(callee.cred.name);
    if (r.status !== 200) throw new Error("expected a session");
    return {
      caller,
      callee,
      session: r.session,
      async [Symbol.asyncDispose]() {
        await caller.agent[Symbol.asyncDispose]();
        await callee.agent[Symbol.asyncDispose]();
      },
    };
  }

  describe("control node flows", () => {
    test("enroll prints the credential JSON and enrollment tokens redeem once", async () => {
      const cred = await node.enroll("+81-90-1234-5678");
      expect(Object.keys(cred).sort()).toEqual(["id", "name", "node", "secret"]);
      const { token } = await node.admin.enrollmentToken(60);
      const { ControlClient } = await import("../../protocol/control-client.ts");
      const redeemed = await ControlClient.enroll(node.baseUrl, token, "grandma@example.jp", node.fetch);
      expect(redeemed.id).toMatch(/^dev_/);
      expect(await outcomeOf(ControlClient.enroll(node.baseUrl, token, "again", node.fetch))).toBe(
        "401 invalid_token",
      );
      expect(await outcomeOf(ControlClient.enroll(node.baseUrl, "enr_bogus", "x", node.fetch))).toBe(
        "401 invalid_token",
      );
      const me = node.client(redeemed);
      expect((await me.register("203.0.113.5", 9000)).address).toBe("203.0.113.5");
      expect((await me.register("203.0.113.6", 9001)).address).toBe("203.0.113.6"); // latest wins
      expect(await me.registration()).toMatchObject({ address: "203.0.113.6", port: 9001 });
    });

    test("the keepalive answer carries the mapping the node saw", async () => {
      const p = await peer({ keepalive: false });
      await using _a = p.agent;
      const mapped = await p.agent.keepalive();
      expect(mapped).toMatchObject({ address: "127.0.0.1", port: p.agent.port });
    });

    test("QUERY: every refusal reason, then a session both peers receive once", async () => {
      const caller = await peer();
      const callee = await peer({ keepalive: false, register: false });
      await using _c = caller.agent;
      await using _d = callee.agent;
      const q = () => caller.api.query(callee.cred.name);

      expect(await outcomeOf(caller.api.query("no-such-device"))).toBe("403 permission_denied");
      expect(await outcomeOf(q())).toBe("403 permission_denied");
      await callee.api.updateAllowList({ create: [caller.cred.name] });
      expect(await outcomeOf(q())).toBe("404 callee_not_found");
      await callee.api.register("127.0.0.1", 45678);
      expect(await outcomeOf(q())).toBe("409 callee_not_connected");
      await callee.agent.keepalive();
      callee.agent.answer = (t) => (t.kind === "status" ? "no-ack" : undefined);
      expect(await outcomeOf(q())).toBe("409 callee_not_connected");
      callee.agent.answer = (t) => (t.kind === "status" ? "busy" : undefined);
      expect(await outcomeOf(q())).toBe("409 callee_busy");
      callee.agent.answer = (t) => (t.kind === "status" ? "acceptable" : undefined);

      const r = await caller.api.query(callee.cred.name.toUpperCase());
      expect(r.status).toBe(200);
      if (r.status !== 200) return;
      expect(r.callee).toMatchObject({ id: callee.cred.id, address: "127.0.0.1", port: 45678 });
      expect(r.session).toMatchObject({ mode: "live", duration: 3600 });
      await waitFor("contact trigger", () => callee.agent.kinds().includes("contact"), { timeoutMs: 3000 });
      const pending = await callee.api.pendingSessions();
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({
        id: r.session.id,
        password: r.session.password,
        key: r.session.key,
        caller: { id: caller.cred.id, name: caller.cred.name, address: "127.0.0.1" },
      });
      expect(await callee.api.pendingSessions()).toEqual([]);
      expect(await caller.api.pendingSessions()).toEqual([]);
    });

    test("storeIfBusy turns a busy callee into a store session (202)", async () => {
      const caller = await peer();
      const callee = await peer();
      await using _c = caller.agent;
      await using _d = callee.agent;
      await callee.api.updateAllowList({ add: [caller.cred.name] });
      callee.agent.answer = (t) => (t.kind === "status" ? "busy" : undefined);
      const r = await caller.api.query(callee.cred.name, { storeIfBusy: true });
      expect(r.status).toBe(202);
      if (r.status !== 202) return;
      expect(r.code).toBe("callee_busy");
      expect(r.session.mode).toBe("store");
      expect(JSON.stringify(r)).not.toContain("40000"); // no address for a store session
      const pending = await callee.api.pendingSessions();
      expect(pending.map((p) => p.id)).toEqual([r.session.id]);
    });

    test("device-held allow-list: the verdict trigger decides, silence denies", async () => {
      const caller = await peer();
      const callee = await peer();
      await using _c = caller.agent;
      await using _d = callee.agent;
      await callee.api.updateAllowList({ add: ["someone"] });
      expect(await callee.api.setPolicy("device")).toEqual({ policy: "device", entries: [] });
      expect(await outcomeOf(callee.api.updateAllowList({ add: ["x"] }))).toBe("409 policy_is_device");
      let asked: unknown = null;
      callee.agent.answer = (t) => {
        if (t.kind === "verdict") {
          asked = t.ref;
          return "allow";
        }
        return t.kind === "status" ? "acceptable" : undefined;
      };
      expect((await caller.api.query(callee.cred.name)).status).toBe(200);
      expect(asked).toEqual({ caller: { id: caller.cred.id, name: caller.cred.name } });
      callee.agent.answer = (t) =>
        t.kind === "verdict" ? "deny" : t.kind === "status" ? "acceptable" : undefined;
      expect(await outcomeOf(caller.api.query(callee.cred.name))).toBe("403 permission_denied");
      callee.agent.answer = (t) => (t.kind === "verdict" ? "no-ack" : "acceptable");
      expect(await outcomeOf(caller.api.query(callee.cred.name))).toBe("403 permission_denied");
    });

    test("groups: membership grants, removal revokes on the next query", async () => {
      const caller = await peer();
      const callee = await peer();
      const stranger = await peer({ keepalive: false });
      await using _c = caller.agent;
      await using _d = callee.agent;
      await using _o = stranger.agent;
      const g = `fam${n}`;
      // "@g" resolves in the list owner's namespace (issue 21 item 1), so the callee owns the group it lists.
      await callee.api.createGroup(g);
      expect(await outcomeOf(stranger.api.createGroup(g))).toBe("409 group_exists");
      await callee.api.updateAllowList({ create: [`@${g}`] });
      expect(await outcomeOf(caller.api.query(callee.cred.name))).toBe("403 permission_denied");
      await callee.api.updateGroup(g, { add: [caller.cred.name] });
      expect((await caller.api.group(g)).members).toEqual([caller.cred.name.toLowerCase()]);
      expect(await outcomeOf(caller.api.updateGroup(g, { add: ["x"] }))).toBe("403 not_group_owner");
      expect(await outcomeOf(stranger.api.group(g))).toBe("404 group_not_found");
      expect((await caller.api.query(callee.cred.name)).status).toBe(200);
      await callee.api.updateGroup(g, { delete: [caller.cred.name] });
      expect(await outcomeOf(caller.api.query(callee.cred.name))).toBe("403 permission_denied");
    });

    test("lease: extension under policy, peer end triggers the other, accounting by device and time", async () => {
      const caller = await peer();
      const callee = await peer();
      await using _c = caller.agent;
      await using _d = callee.agent;
      await callee.api.updateAllowList({ create: [caller.cred.name] });
      const t0 = Date.now();
      const r = await caller.api.query(callee.cred.name);
      if (r.status !== 200) throw new Error("expected a session");
      const id = r.session.id;
      expect(await callee.api.extend(id)).toMatchObject({ duration: 4200, extensions: 1 });
      expect(await outcomeOf(caller.api.extend(id))).toBe("409 extension_refused");
      const stranger = await peer({ keepalive: false });
      await using _s = stranger.agent;
      expect(await outcomeOf(stranger.api.session(id))).toBe("404 session_not_found");
      expect(await outcomeOf(stranger.api.end(id, { reason: "x" }))).toBe("404 session_not_found");
      const ended = await caller.api.end(id, {
        reason: "complete",
        bytesDirect: 1000,
        bytesRelay: 24,
        directPath: "punched",
      });
      expect(ended).toMatchObject({ state: "ended", reason: "complete" });
      await waitFor(
        "end trigger",
        () => callee.agent.triggers.some((t) => t.kind === "end" && t.ref.session === id),
        { timeoutMs: 3000 },
      );
      expect(await callee.api.session(id)).toMatchObject({ state: "ended" });
      const report = { reason: "peer ended", bytesDirect: 1000 };
      await callee.api.end(id, report);
      // The same report again (a retry whose answer was lost) is answered like the first; other figures are not.
      expect(await callee.api.end(id, report)).toMatchObject({ state: "ended", reason: "complete" });
      expect(await outcomeOf(callee.api.end(id, { reason: "again" }))).toBe("409 session_ended");
      const log = await node.admin.accounting({ device: callee.cred.id, from: t0 });
      expect(log).toEqual([
        expect.objectContaining({
          sessionId: id,
          reason: "complete",
          endedBy: caller.cred.id,
          bytesRelayNode: 0,
          // The node carried no relay bytes: the caller's 24 is not believed.
          caller: expect.objectContaining({
            reason: "complete",
            bytesDirect: 1000,
            bytesRelay: 0,
            directPath: "punched",
          }),
          callee: expect.objectContaining({
            reason: "peer ended",
            bytesDirect: 1000,
            bytesRelay: 0,
            directPath: null,
          }),
        }),
      ]);
      expect(log[0]!.caller!.note).toContain("bytesRelay capped");
      expect(log[0]!.durationMs).toBeGreaterThanOrEqual(0);
      expect(await node.admin.accounting({ device: callee.cred.id, to: t0 })).toEqual([]);
    });

    test("forced end by the operator sends end triggers to both peers", async () => {
      await using pair = await livePair();
      const { caller, callee, session } = pair;
      const active = await node.admin.sessions("active");
      expect(active.map((s) => s.id)).toContain(session.id);
      const out = await node.admin.endSession(session.id, "operator");
      expect(out).toEqual({ id: session.id, state: "ended", acknowledged: { caller: true, callee: true } });
      for (const p of [caller, callee]) {
        expect(p.agent.triggers.some((t) => t.kind === "end" && t.ref.session === session.id)).toBe(true);
      }
      expect(await caller.api.session(session.id)).toMatchObject({ state: "ended", reason: "operator" });
      expect(await outcomeOf(caller.api.extend(session.id))).toBe("409 extension_refused");
    });

    test("admin routes need the token; the old status page redirects to the console", async () => {
      const bad = new (await import("../../protocol/admin-client.ts")).AdminClient(
        node.baseUrl,
        "wrong-token-123456",
        node.fetch,
      );
      expect(await outcomeOf(bad.devices())).toBe("401 unauthorized");
      const devices = await node.admin.devices();
      expect(devices.length).toBeGreaterThan(3);
      expect(devices.some((d) => d.connected)).toBe(true);
      expect(await node.admin.spool()).toMatchObject({
        files: expect.any(Number),
        bytes: expect.any(Number),
      });
      // The console replaced /status: it redirects there, drops the query and clears the old token cookie.
      const old = await node.fetch(`${node.baseUrl}/status?token=${encodeURIComponent(node.adminToken)}`, {
        redirect: "manual",
      });
      expect(old.status).toBe(301);
      expect(old.headers.get("location")).toBe("/console/");
      expect(old.headers.get("set-cookie")).toMatch(/^pvrlink_admin=; Max-Age=0; Path=\/status/);
    });

    test("the log never contains secrets, passwords or session keys", async () => {
      await using pair = await livePair();
      const { caller, callee, session } = pair;
      await callee.api.pendingSessions();
      const log = node.stderr();
      for (const secret of [
        caller.cred.secret,
        callee.cred.secret,
        session.password,
        session.key,
        node.adminToken,
      ]) {
        expect(log).not.toContain(secret);
      }
    });
  });
});
