/** @module encodePunchProbe()/decodePunchProbe(): round trips, every wrong byte refused, corruption never throws. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../test/support/seeded-random.ts";
import {
  decodePunchProbe,
  encodePunchProbe,
  isPunchProbe,
  PUNCH_PROBE_BYTES,
  type PunchProbe,
  punchKey,
} from "./punch-probe.ts";

const key = punchKey(new Uint8Array(32).fill(7));
const probe: PunchProbe = {
  kind: "probe",
  role: "callee",
  nonce: new Uint8Array(16).fill(1),
  fingerprint: new Uint8Array(32).fill(2),
};
const good = encodePunchProbe(probe, key, "ses_1");

describe("punch probes", () => {
  test("decodePunchProbe() returns what encodePunchProbe() put in, for each kind and role", () => {
    for (const kind of ["probe", "ack"] as const) {
      for (const role of ["caller", "callee"] as const) {
        const p = { ...probe, kind, role };
        const bytes = encodePunchProbe(p, key, "ses_1");
        expect(bytes.byteLength).toBe(PUNCH_PROBE_BYTES);
        expect(decodePunchProbe(bytes, key, "ses_1")).toEqual(p);
      }
    }
  });

  const refused: Array<[string, () => Uint8Array | null]> = [
    ["another session's probe", () => (decodePunchProbe(good, key, "ses_2") ? good : null)],
    [
      "another key's probe",
      () => (decodePunchProbe(good, punchKey(new Uint8Array(32)), "ses_1") ? good : null),
    ],
  ];
  for (const [what, run] of refused) {
    test(`decodePunchProbe() refuses ${what}`, () => {
      expect(run()).toBeNull();
    });
  }

  test("decodePunchProbe() refuses a change to any single byte (header, nonce, fingerprint or tag)", () => {
    for (let at = 0; at < good.byteLength; at++) {
      const bad = good.slice();
      bad[at] = bad[at]! ^ 0x01;
      expect(decodePunchProbe(bad, key, "ses_1")).toBeNull();
    }
  });

  test("decodePunchProbe() refuses short, long and empty datagrams", () => {
    for (const bytes of [new Uint8Array(0), good.subarray(0, 87), new Uint8Array([...good, 0])]) {
      expect(isPunchProbe(bytes)).toBe(false);
      expect(decodePunchProbe(bytes, key, "ses_1")).toBeNull();
    }
  });

  test("encodePunchProbe() rejects a nonce or fingerprint of the wrong size", () => {
    expect(() => encodePunchProbe({ ...probe, nonce: new Uint8Array(15) }, key, "s")).toThrow(RangeError);
    expect(() => encodePunchProbe({ ...probe, fingerprint: new Uint8Array(20) }, key, "s")).toThrow(
      RangeError,
    );
  });

  test("random and corrupted datagrams never throw and never decode", () => {
    const rand = new SeededRandom(1588);
    for (let i = 0; i < 5000; i++) {
      const bytes = i % 2 === 0 ? rand.bytes(rand.below(200)) : rand.sprinkle(good, 0.05);
      if (bytes.byteLength === good.byteLength && Buffer.from(bytes).equals(Buffer.from(good))) continue;
      expect(decodePunchProbe(bytes, key, "ses_1")).toBeNull();
    }
  });
});
