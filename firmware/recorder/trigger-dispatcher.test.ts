/** @module Tests for TriggerDispatcher.handle(): verification, duplicates, answers, secret-free logs and fuzzed datagrams. */
import { describe, expect, test } from "bun:test";
import {
  encodeTrigger,
  type Trigger,
  type TriggerKind,
  verifyTriggerAck,
} from "../../protocol/trigger-datagram.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { TriggerDispatcher, type TriggerLogEvent } from "./trigger-dispatcher.ts";

const KEY = new Uint8Array(32).fill(7);
const DEVICE = "dev_recorder0001";
const NOW = 1_800_000_000_000;

function rig(
  answers: {
    status?: "acceptable" | "busy";
    verdict?: (t: Trigger) => "allow" | "deny";
    throwOn?: TriggerKind;
  } = {},
) {
  const acks: Uint8Array[] = [];
  const logs: TriggerLogEvent[] = [];
  const acted: Trigger[] = [];
  const act = (t: Trigger) => {
    acted.push(t);
    if (answers.throwOn === t.kind) throw new Error("handler broke");
  };
  const d = new TriggerDispatcher({
    deviceId: DEVICE,
    key: KEY,
    now: () => NOW,
    sendAck: (b) => acks.push(b),
    log: (e) => logs.push(e),
    handlers: {
      list: (t) => act(t),
      status: (t) => {
        act(t);
        return answers.status ?? "acceptable";
      },
      verdict: (t) => {
        act(t);
        return answers.verdict ? answers.verdict(t) : "deny";
      },
      contact: (t) => act(t),
      end: (t) => act(t),
      data: (t) => act(t),
    },
  });
  const ackOf = (i: number) => verifyTriggerAck(acks[i]!, KEY, { deviceId: DEVICE, now: NOW });
  return { d, acks, logs, acted, ackOf };
}

const trig = (
  kind: TriggerKind,
  ref: Record<string, unknown> = {},
  o: { key?: Uint8Array; ts?: number; device?: string } = {},
) => encodeTrigger({ deviceId: o.device ?? DEVICE, kind, ref, timestamp: o.ts ?? NOW }, o.key ?? KEY);

describe("TriggerDispatcher", () => {
  const answered: Array<[string, TriggerKind, Record<string, unknown>, string | undefined]> = [
    ["status is answered from the load", "status", {}, "busy"],
    [
      "verdict is answered from the allow-list",
      "verdict",
      { caller: { id: "dev_a", name: "alice" } },
      "allow",
    ],
    ["contact is ACKed without an answer", "contact", { session: "ses_1" }, undefined],
    ["end is ACKed without an answer", "end", { session: "ses_1" }, undefined],
    ["data is ACKed without an answer", "data", { transfer: "t", session: "s", kind: "store" }, undefined],
  ];
  for (const [name, kind, ref, answer] of answered) {
    test(`handle() ${name}`, async () => {
      const r = rig({
        status: "busy",
        verdict: (t) => ((t.ref.caller as { name: string }).name === "alice" ? "allow" : "deny"),
      });
      const t = trig(kind, ref);
      expect(r.d.handle(t.bytes)).toBe("new");
      await Bun.sleep(0);
      expect(r.acted.map((a) => a.kind)).toEqual([kind]);
      const ack = r.ackOf(0);
      expect(ack.id).toBe(t.id);
      expect(ack.answer).toBe(answer);
    });
  }

  test("handle() ACKs a duplicate again with the first answer and does not act twice", async () => {
    const r = rig({ status: "acceptable" });
    const t = trig("status");
    expect(r.d.handle(t.bytes)).toBe("new");
    expect(r.d.handle(t.bytes)).toBe("duplicate");
    expect(r.d.handle(t.bytes)).toBe("duplicate");
    expect(r.acted).toHaveLength(1);
    expect(r.acks.map((_, i) => r.ackOf(i).answer)).toEqual(["acceptable", "acceptable", "acceptable"]);
    expect(r.d.stats).toEqual({ accepted: 1, duplicates: 2, rejected: 0 });
  });

  const rejected: Array<[string, () => Uint8Array, string]> = [
    [
      "a trigger under another key",
      () => trig("status", {}, { key: new Uint8Array(32).fill(9) }).bytes,
      "ERR_TRIGGER_BAD_TAG",
    ],
    ["a stale trigger", () => trig("status", {}, { ts: NOW - 120_000 }).bytes, "ERR_TRIGGER_STALE"],
    ["a trigger from the future", () => trig("status", {}, { ts: NOW + 120_000 }).bytes, "ERR_TRIGGER_STALE"],
    [
      "a trigger for another device",
      () => trig("status", {}, { device: "dev_other000001" }).bytes,
      "ERR_TRIGGER_WRONG_DEVICE",
    ],
    ["a truncated trigger", () => trig("status").bytes.subarray(0, 40), "ERR_TRIGGER_MALFORMED"],
    [
      "a flipped body byte",
      () => {
        const b = new Uint8Array(trig("status").bytes);
        b[34]! ^= 1;
        return b;
      },
      "ERR_TRIGGER_BAD_TAG",
    ],
  ];
  for (const [name, make, code] of rejected) {
    test(`handle() rejects ${name} without ACK or action`, () => {
      const r = rig();
      expect(r.d.handle(make())).toBe("rejected");
      expect(r.acks).toHaveLength(0);
      expect(r.acted).toHaveLength(0);
      expect(r.logs[0]).toMatchObject({ event: "trigger-rejected", code });
    });
  }

  test("handle() answers busy/deny when the handler throws, and still ACKs", () => {
    for (const kind of ["status", "verdict"] as const) {
      const r = rig({ throwOn: kind });
      expect(r.d.handle(trig(kind).bytes)).toBe("new");
      expect(r.ackOf(0).answer).toBe(kind === "status" ? "busy" : "deny");
      expect(r.logs.some((l) => l.event === "trigger-failed")).toBe(true);
    }
  });

  test("handle() logs no key material: log lines carry only ids, kinds, answers and codes", () => {
    const r = rig();
    r.d.handle(trig("status").bytes);
    r.d.handle(trig("status", {}, { key: new Uint8Array(32) }).bytes);
    const text = JSON.stringify(r.logs);
    expect(text).not.toContain(Buffer.from(KEY).toString("base64url"));
    expect(text).not.toContain(Buffer.from(KEY).toString("hex"));
  });

  test("handle() survives 5000 random and mutated datagrams without throwing or acting", () => {
    const r = rig();
    const rnd = new SeededRandom(12345);
    const rand = () => rnd.next();
    const valid = trig("end", { session: "s" }).bytes;
    for (let i = 0; i < 5000; i++) {
      let b: Uint8Array;
      if (i % 2 === 0) {
        b = new Uint8Array(Math.floor(rand() * 1300)).map(() => Math.floor(rand() * 256));
        if (b.length >= 6 && i % 4 === 0) b.set([0x50, 0x56, 0x54, 0x47, 1, 1], 0);
      } else {
        b = new Uint8Array(valid);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) b[Math.floor(rand() * b.length)]! ^= 1 << Math.floor(rand() * 8);
        if (i % 3 === 0) b = b.subarray(0, Math.floor(rand() * b.length));
      }
      expect(() => r.d.handle(b)).not.toThrow();
    }
    expect(r.acted).toHaveLength(0);
    expect(r.acks).toHaveLength(0);
  });
});
