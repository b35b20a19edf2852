/** @module Tests for QueryService.query(): the order of its checks and the distinct refusal for each. */
import { beforeEach, describe, expect, test } from "bun:test";
import { contactTicketValid } from "../../crypto/contact-ticket.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { ApiError } from "../errors/api-error.ts";
import { AllowListStore } from "../store/allow-list-store.ts";
import { DeviceStore } from "../store/device-store.ts";
import { KeepaliveTable } from "../store/keepalive-table.ts";
import { SessionStore } from "../store/session-store.ts";
import { QueryService } from "./query-service.ts";
import type { TriggerKind, TriggerPort } from "./trigger-port.ts";

// A scripted trigger port: the real UDP path is exercised by the integration tests in test/control/.
class ScriptedTriggers implements TriggerPort {
  answers = new Map<string, string | null>();
  sent: Array<{ deviceId: string; kind: TriggerKind }> = [];
  async trigger(deviceId: string, kind: TriggerKind) {
    this.sent.push({ deviceId, kind });
    const a = this.answers.get(`${deviceId}:${kind}`);
    return a === undefined || a === null ? null : { answer: a };
  }
}

describe.each(STORE_BACKENDS)("QueryService on %s", (kind) => {
  const backend = storeBackend(kind);
  let devices: DeviceStore;
  let allow: AllowListStore;
  let keepalives: KeepaliveTable;
  let triggers: ScriptedTriggers;
  let svc: QueryService;
  let caller: string;
  let callee: string;
  let calleeSecret: string;
  let probe: boolean | null;

  beforeEach(async () => {
    const db = await backend.open();
    devices = new DeviceStore(db);
    allow = new AllowListStore(db, 100);
    keepalives = await KeepaliveTable.load(db, 3);
    const sessions = new SessionStore(db, {
      durationSec: 3600,
      connectWindowSec: 60,
      extensionSec: 60,
      maxExtensions: 1,
      maxTotalSec: 7200,
    });
    triggers = new ScriptedTriggers();
    probe = null;
    svc = new QueryService({
      devices,
      allow,
      keepalives,
      sessions,
      triggers,
      triggerDeadlineMs: 100,
      tcpProbe: async () => probe ?? true,
      storeDeliverWithinSec: 3600,
      log: () => {},
    });
    caller = (await devices.enroll("caller")).id;
    ({ id: callee, secret: calleeSecret } = await devices.enroll("callee"));
  });

  async function outcome(name = "callee", store = false): Promise<string> {
    try {
      const r = await svc.query(caller, name, { storeIfBusy: store });
      return String(r.status);
    } catch (err) {
      if (err instanceof ApiError) return `${err.status} ${err.code}`;
      throw err;
    }
  }

  async function ready(): Promise<void> {
    await allow.edit(callee, { create: ["caller"] });
    await devices.register(callee, "192.0.2.10", 7000);
    keepalives.record(callee, "198.51.100.10", 40000, 25);
    triggers.answers.set(`${callee}:status`, "acceptable");
  }

  describe("QueryService.query() check order", () => {
    test("an unknown name is permission_denied, not callee_not_found", async () => {
      expect(await outcome("nobody")).toBe("403 permission_denied");
    });

    test("permission comes first: unlisted caller is denied even when the callee is unregistered", async () => {
      expect(await outcome()).toBe("403 permission_denied");
      expect(triggers.sent).toEqual([]); // the callee is not even bothered
    });

    test("permitted but never registered: callee_not_found", async () => {
      await allow.edit(callee, { create: ["caller"] });
      expect(await outcome()).toBe("404 callee_not_found");
    });

    test("registered but no fresh keepalive: callee_not_connected", async () => {
      await ready();
      keepalives.record(callee, "198.51.100.10", 40000, 25, Date.now() - 76_000);
      expect(await outcome()).toBe("409 callee_not_connected");
    });

    test("a failed TCP probe is callee_not_connected", async () => {
      await ready();
      probe = false;
      expect(await outcome()).toBe("409 callee_not_connected");
    });

    test("no answer to the status trigger is callee_not_connected", async () => {
      await ready();
      triggers.answers.set(`${callee}:status`, null);
      expect(await outcome()).toBe("409 callee_not_connected");
    });

    const offline: [string, () => void][] = [
      [
        "no fresh keepalive",
        () => keepalives.record(callee, "198.51.100.10", 40000, 25, Date.now() - 76_000),
      ],
      ["a failed TCP probe", () => (probe = false)],
      ["no answer to the status trigger", () => triggers.answers.set(`${callee}:status`, null)],
    ];
    for (const [what, makeOffline] of offline) {
      test(`${what} with storeIfBusy issues a store session (callee_not_connected)`, async () => {
        await ready();
        makeOffline();
        const r = await svc.query(caller, "callee", { storeIfBusy: true });
        expect(r.status).toBe(202);
        expect(r.body).toMatchObject({
          code: "callee_not_connected",
          callee: { id: callee, name: "callee" },
        });
        expect(r.body.session.mode).toBe("store");
        // The callee's address never reaches the caller of a store session.
        expect(JSON.stringify(r.body)).not.toContain("192.0.2.10");
      });
    }

    test("never registered stays callee_not_found, even with storeIfBusy", async () => {
      await allow.edit(callee, { create: ["caller"] });
      expect(await outcome("callee", true)).toBe("404 callee_not_found");
    });

    test("busy is callee_busy, or a store session with storeIfBusy", async () => {
      await ready();
      triggers.answers.set(`${callee}:status`, "busy");
      expect(await outcome()).toBe("409 callee_busy");
      expect(await outcome("callee", true)).toBe("202");
    });

    test("acceptable issues a session, reveals the address, and sends contact", async () => {
      await ready();
      const r = await svc.query(caller, "CALLEE", { storeIfBusy: false });
      expect(r.status).toBe(200);
      if (r.status !== 200) return;
      expect(r.body.callee).toEqual({
        id: callee,
        name: "callee",
        address: "192.0.2.10",
        port: 7000,
        mapped: { address: "198.51.100.10", port: 40000 },
      });
      expect(triggers.sent.map((s) => s.kind)).toEqual(["status", "contact"]);
    });

    test("the live answer carries the contact ticket the callee can check with its own secret", async () => {
      await ready();
      const r = await svc.query(caller, "callee", { storeIfBusy: false });
      if (r.status !== 200) throw new Error(`expected 200, got ${r.status}`);
      const { id, connectBy, contactTicket } = r.body.session;
      const ticket = fromBase64url(contactTicket ?? "");
      expect(contactTicketValid(fromBase64url(calleeSecret), { sessionId: id, connectBy }, ticket)).toBe(
        true,
      );
      const other = fromBase64url((await devices.enroll("other")).secret);
      expect(contactTicketValid(other, { sessionId: id, connectBy }, ticket)).toBe(false);
    });

    test("a store grant carries no contact ticket: nothing dials the callee with it", async () => {
      await ready();
      triggers.answers.set(`${callee}:status`, "busy");
      const r = await svc.query(caller, "callee", { storeIfBusy: true });
      expect(r.status).toBe(202);
      expect(r.body.session.contactTicket).toBeUndefined();
    });

    test("groups grant permission and a change applies to the next query", async () => {
      await ready();
      await allow.edit(callee, { create: ["@fam"] });
      expect(await outcome()).toBe("403 permission_denied");
      await allow.createGroup(callee, "fam");
      await allow.editMembers(callee, "callee", "fam", { add: ["caller"] });
      expect(await outcome()).toBe("200");
      await allow.editMembers(callee, "callee", "fam", { delete: ["caller"] });
      expect(await outcome()).toBe("403 permission_denied");
    });

    test("policy device asks the callee: allow, deny, and silence (denied)", async () => {
      await ready();
      await allow.setPolicy(callee, "device");
      triggers.answers.set(`${callee}:verdict`, "allow");
      expect(await outcome()).toBe("200");
      triggers.answers.set(`${callee}:verdict`, "deny");
      expect(await outcome()).toBe("403 permission_denied");
      triggers.answers.set(`${callee}:verdict`, null);
      expect(await outcome()).toBe("403 permission_denied");
    });
  });
});
