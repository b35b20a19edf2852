/** @module listPermits() and DeviceListRequests: judging a device-sent list, and accepting it only for the request asked. */
import { expect, test } from "bun:test";
import { DeviceListRequests, type DeviceSentList, listPermits } from "./device-list-requests.ts";
import type { TriggerPort } from "./trigger-port.ts";

const list: DeviceSentList = { entries: ["alice", "@family", "@ghosts"], groups: { family: ["carol"] } };
const cases: [string, boolean][] = [
  ["alice", true],
  ["ALICE", true],
  ["carol", true],
  ["mallory", false],
  ["family", false],
  ["@family", false],
  ["ghosts", false],
];
for (const [caller, want] of cases) {
  test(`listPermits() ${want ? "permits" : "denies"} ${caller}`, () =>
    expect(listPermits(list, caller)).toBe(want));
}

/** The UDP side as the query sees it: records each trigger and ACKs it (or not). */
function port(acks: boolean): TriggerPort & { sent: { deviceId: string; ref: Record<string, unknown> }[] } {
  const sent: { deviceId: string; ref: Record<string, unknown> }[] = [];
  return {
    sent,
    trigger: async (deviceId, _kind, ref) => {
      sent.push({ deviceId, ref });
      return acks ? {} : null;
    },
  };
}

test("DeviceListRequests.ask() resolves with the list the asked device delivers for its request", async () => {
  const p = port(true);
  const r = new DeviceListRequests(p);
  const asked = r.ask("dev_g", 2000);
  await Promise.resolve();
  const request = String(p.sent[0]?.ref.request);
  expect(r.deliver("dev_other", request, list)).toBe(false);
  expect(r.deliver("dev_g", "someone-else", list)).toBe(false);
  expect(r.deliver("dev_g", request, list)).toBe(true);
  expect(await asked).toBe(list);
  expect(r.deliver("dev_g", request, list)).toBe(false);
  expect(r.waiting).toBe(0);
});

test("DeviceListRequests.ask() is null when the device does not ACK, or ACKs and never sends", async () => {
  expect(await new DeviceListRequests(port(false)).ask("dev_g", 200)).toBeNull();
  const silent = new DeviceListRequests(port(true));
  expect(await silent.ask("dev_g", 100)).toBeNull();
  expect(silent.waiting).toBe(0);
});
