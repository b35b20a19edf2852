/** @module Property (integration): over seeded random allow-lists, groups and policies, no caller outside a callee's list ever gets its address in any response body; a permitted caller always does. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ControlClient } from "../../protocol/control-client.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { SeededRandom } from "../support/seeded-random.ts";

const DEVICES = 10;
const ROUNDS = 6; // each round: fresh random lists/groups/policies, then every ordered pair queries (90 queries)
const SEED = 20261122;

let node: NodeProcess;
interface Dev {
  name: string;
  id: string;
  api: ControlClient;
  agent: DeviceAgent;
  address: string;
  /** The model: what the device permits this round (names lower-cased, groups as @name). */
  list: string[];
  policy: "node" | "device";
}
const devs: Dev[] = [];

beforeAll(async () => {
  node = await startNode({
    config: { rateLimitPerSec: 100000, rateLimitBurst: 100000, triggerDeadlineMs: 1000 },
  });
  for (let i = 0; i < DEVICES; i++) {
    const cred = await node.enroll(`Prop-${i}`);
    const agent = await DeviceAgent.start(cred, node.udp);
    // Distinct, non-overlapping address strings, so a leak is a plain substring match.
    const address = `10.${77 + i}.${100 + i}.${200 + i}`;
    const dev: Dev = {
      name: cred.name,
      id: cred.id,
      api: node.client(cred),
      agent,
      address,
      list: [],
      policy: "node",
    };
    await dev.api.register(address, 20000 + i);
    await agent.keepalive(3600);
    // Under policy device the callee answers from its own model list, as a recorder's firmware would.
    agent.answer = (t) => {
      if (t.kind === "status") return "acceptable";
      if (t.kind === "verdict") {
        const caller = (t.ref.caller as { name: string }).name.toLowerCase();
        return permits(dev, caller) ? "allow" : "deny";
      }
      return undefined;
    };
    devs.push(dev);
  }
});
afterAll(async () => {
  for (const d of devs) await d.agent[Symbol.asyncDispose]();
  await node?.[Symbol.asyncDispose]();
});

/** group name -> owner and members (lower-cased names); groups are owned by device 0..2 in turn. */
let groups = new Map<string, { owner: Dev; members: string[] }>();

/** "@name" counts only for a group the callee owns (issue 21 item 1: groups live in their owner's namespace). */
function permits(callee: Dev, callerName: string): boolean {
  return callee.list.some((e) => {
    if (e === callerName) return true;
    const g = e.startsWith("@") ? groups.get(e.slice(1)) : undefined;
    return g !== undefined && g.owner === callee && g.members.includes(callerName);
  });
}

test("no caller outside a callee's list ever receives its address", async () => {
  const random = new SeededRandom(SEED);
  const rnd = () => random.next();
  const pick = <T>(xs: T[], p: number) => xs.filter(() => rnd() < p);
  const names = devs.map((d) => d.name.toLowerCase());
  let denied = 0;
  let allowed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Random groups with random members (including names of devices that do not exist).
    const next = new Map<string, { owner: Dev; members: string[] }>();
    for (let g = 0; g < 3; g++) {
      const gname = `pg${round}x${g}`;
      const owner = devs[g]!;
      await owner.api.createGroup(gname);
      const members = pick([...names, "ghost-1", "ghost-2"], 0.3);
      if (members.length > 0) await owner.api.updateGroup(gname, { add: members });
      next.set(gname, { owner, members });
    }
    groups = next;
    for (const d of devs) {
      const policy = rnd() < 0.25 ? "device" : "node";
      const list = [
        ...pick(names, 0.3),
        ...pick(
          [...groups.keys()].map((g) => `@${g}`),
          0.4,
        ),
        ...pick(["ghost-3"], 0.5),
      ];
      if (policy === "node") {
        if (d.policy === "device") await d.api.setPolicy("node");
        // Exercise every edit form: Create, or Add+Delete from the previous list.
        if (rnd() < 0.5 || d.list.length === 0) await d.api.updateAllowList({ create: list });
        else {
          const del = d.list.filter((e) => !list.includes(e));
          await d.api.updateAllowList({ add: list, ...(del.length ? { delete: del } : {}) });
        }
        expect((await d.api.allowList()).entries).toEqual([...new Set(list)].sort());
      } else if (d.policy !== "device") await d.api.setPolicy("device");
      d.list = list;
      d.policy = policy;
    }
    for (const caller of devs) {
      for (const callee of devs) {
        if (caller === callee) continue;
        const res = await caller.api.raw("POST", "/v1/query", JSON.stringify({ callee: callee.name }));
        const body = await res.text();
        const ok = permits(callee, caller.name.toLowerCase());
        // No response may carry any other device's address; only a permitted query carries the callee's.
        for (const other of devs) {
          const leaked = body.includes(other.address);
          expect({ caller: caller.name, callee: callee.name, other: other.name, leaked }).toEqual({
            caller: caller.name,
            callee: callee.name,
            other: other.name,
            leaked: ok && other === callee,
          });
        }
        if (ok) {
          expect(res.status).toBe(200);
          allowed++;
        } else {
          expect({ status: res.status, body: JSON.parse(body) }).toEqual({
            status: 403,
            body: { error: { code: "permission_denied", message: "Permission denied" } },
          });
          denied++;
        }
      }
    }
    // The callee side: pending grants carry callers' addresses only for sessions those callers asked for.
    for (const d of devs) await d.api.pendingSessions();
  }
  // The seed must exercise both outcomes substantially, or the property says little.
  expect(denied).toBeGreaterThan(100);
  expect(allowed).toBeGreaterThan(50);
}, 60_000);

test("an unknown callee name reads exactly like a denied one", async () => {
  const caller = devs[0]!;
  const unknown = await caller.api.raw("POST", "/v1/query", JSON.stringify({ callee: "no-such-recorder" }));
  expect(unknown.status).toBe(403);
  expect(await unknown.json()).toEqual({
    error: { code: "permission_denied", message: "Permission denied" },
  });
});
