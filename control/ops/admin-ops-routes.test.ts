import { describe, expect, test } from "bun:test";
import { inMemoryNode } from "../../test/support/in-memory-node.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";

async function outcome(res: Response): Promise<string> {
  if (res.ok) return String(res.status);
  const body = (await res.json()) as { error: { code: string } };
  return `${res.status} ${body.error.code}`;
}

describe("admin operator routes", () => {
  test("rename, disable and enable a device; a disabled device's secret stops authenticating", async () => {
    using n = await inMemoryNode();
    const dev = await n.ctx.devices.enroll("box-1");
    const renamed = await n.admin("PATCH", `/admin/devices/${dev.id}`, { name: "Box-One" });
    expect(((await renamed.json()) as { name: string }).name).toBe("Box-One");
    const off = (await (await n.admin("POST", `/admin/devices/${dev.id}/disable`)).json()) as {
      disabledAt: number;
    };
    expect(off.disabledAt).toBeNumber();
    expect(await n.ctx.devices.secretOf(dev.id)).toBeNull();
    await n.admin("POST", `/admin/devices/${dev.id}/enable`);
    expect(await n.ctx.devices.secretOf(dev.id)).not.toBeNull();
  });

  test("disabling a device ends its live sessions; editing a list ends the sessions it no longer permits", async () => {
    using n = await inMemoryNode();
    const a = await n.ctx.devices.enroll("caller-a");
    const b = await n.ctx.devices.enroll("callee-b");
    const c = await n.ctx.devices.enroll("caller-c");
    await n.ctx.allow.edit(b.id, { create: ["caller-a", "caller-c"] });
    const s1 = await n.ctx.sessions.issue(a.id, b.id, "live", 60);
    const s2 = await n.ctx.sessions.issue(c.id, b.id, "live", 60);
    await n.admin("POST", `/admin/devices/${a.id}/disable`);
    expect((await n.ctx.sessions.get(s1.id))?.state).toBe("ended");
    expect((await n.ctx.sessions.get(s2.id))?.state).toBe("active");
    await n.admin("PUT", `/admin/devices/${b.id}/allow-list`, { delete: ["caller-c"] });
    expect((await n.ctx.sessions.get(s2.id))?.state).toBe("ended");
  });

  const refusals: Array<[string, string, string, unknown, string]> = [
    ["an unknown device", "GET", "/admin/devices/dev_missing000000", undefined, "404 device_not_found"],
    [
      "disabling an unknown device",
      "POST",
      "/admin/devices/dev_missing000000/disable",
      undefined,
      "404 device_not_found",
    ],
    ["a rename to a bad name", "PATCH", "/admin/devices/ID", { name: "@bad" }, "400 bad_request"],
    ["a rename to a taken name", "PATCH", "/admin/devices/ID", { name: "OTHER" }, "409 name_taken"],
    [
      "a rename with an extra field",
      "PATCH",
      "/admin/devices/ID",
      { name: "x", admin: true },
      "400 bad_request",
    ],
    ["a rename that is not JSON", "PATCH", "/admin/devices/ID", "{name:", "400 bad_request"],
    [
      "an allow-list that is not strings",
      "PUT",
      "/admin/devices/ID/allow-list",
      { add: [1] },
      "400 bad_request",
    ],
    [
      "deleting an unknown spool item",
      "DELETE",
      "/admin/spool/items/tr_missing",
      undefined,
      "404 transfer_not_found",
    ],
  ];
  for (const [what, method, path, body, want] of refusals) {
    test(`refuses ${what} with ${want}`, async () => {
      using n = await inMemoryNode();
      const dev = await n.ctx.devices.enroll("box-1");
      await n.ctx.devices.enroll("other");
      expect(await outcome(await n.admin(method, path.replace("ID", dev.id), body))).toBe(want);
    });
  }

  test("edits a node-held allow-list, and refuses one the device holds", async () => {
    using n = await inMemoryNode();
    const dev = await n.ctx.devices.enroll("box-1");
    const res = await n.admin("PUT", `/admin/devices/${dev.id}/allow-list`, { create: ["Alice", "@family"] });
    expect(await res.json()).toEqual({ policy: "node", entries: ["@family", "alice"] });
    await n.ctx.allow.setPolicy(dev.id, "device");
    expect(await outcome(await n.admin("PUT", `/admin/devices/${dev.id}/allow-list`, { add: ["bob"] }))).toBe(
      "409 policy_is_device",
    );
  });

  test("every route wants the admin token", async () => {
    using n = await inMemoryNode();
    for (const [method, path] of [
      ["GET", "/admin/devices/x"],
      ["GET", "/admin/groups"],
      ["GET", "/admin/spool/items"],
      ["DELETE", "/admin/spool/items/x"],
    ]) {
      const res = await n.app.request(path!, {
        method: method!,
        headers: { authorization: "Bearer wrong-token-000000" },
      });
      expect(res.status).toBe(401);
    }
  });

  test("fuzz: 600 random bodies never make a 500 and never add or drop a device", async () => {
    using n = await inMemoryNode();
    const dev = await n.ctx.devices.enroll("box-1");
    const rand = new SeededRandom(18);
    const shapes = [
      () => new TextDecoder().decode(rand.bytes(rand.below(64))),
      () => JSON.stringify({ name: new TextDecoder().decode(rand.bytes(rand.below(80))) }),
      () =>
        JSON.stringify({
          add: Array.from({ length: rand.below(5) }, () =>
            rand.below(3) === 0 ? 7 : "x".repeat(rand.below(90)),
          ),
        }),
      () => JSON.stringify([rand.next()]),
      () => "x".repeat(5000),
    ];
    const routes: Array<[string, string]> = [
      ["PATCH", `/admin/devices/${dev.id}`],
      ["PUT", `/admin/devices/${dev.id}/allow-list`],
      ["POST", `/admin/devices/${dev.id}/disable`],
      ["DELETE", `/admin/spool/items/${encodeURIComponent("tr_/../x")}`],
    ];
    for (let i = 0; i < 600; i++) {
      const [method, path] = routes[rand.below(routes.length)]!;
      const body = shapes[rand.below(shapes.length)]!();
      const res = await n.admin(method, path, body);
      expect(res.status).toBeLessThan(500);
    }
    expect(await n.ctx.devices.list()).toHaveLength(1);
  });
});
