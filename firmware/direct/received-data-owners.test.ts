/** @module Tests of ReceivedDataOwners: a payload's own buffer goes back once, a shared chunk never. */
import { describe, expect, test } from "bun:test";
import { RELEASE_MIN_BYTES } from "../../runtime/release-buffer.ts";
import { ReceivedDataOwners } from "./received-data-owners.ts";

describe("ReceivedDataOwners", () => {
  const cases: {
    name: string;
    setup: (o: ReceivedDataOwners) => { payload: Uint8Array; owner: Uint8Array | undefined };
    released: boolean[];
  }[] = [
    {
      name: "a sealed frame's plaintext it owns: released once, then nothing more",
      setup: (o) => {
        const owner = new Uint8Array(RELEASE_MIN_BYTES * 2);
        const payload = owner.subarray(1);
        o.record(payload, owner);
        return { payload, owner };
      },
      released: [true, false],
    },
    {
      name: "a view of a shared socket chunk (nothing recorded): never released",
      setup: (o) => {
        const chunk = new Uint8Array(RELEASE_MIN_BYTES * 2);
        const payload = chunk.subarray(10, 100);
        o.record(payload, undefined);
        return { payload, owner: undefined };
      },
      released: [false, false],
    },
    {
      name: "a payload never seen: not released",
      setup: () => ({ payload: new Uint8Array(RELEASE_MIN_BYTES * 2), owner: undefined }),
      released: [false],
    },
  ];
  for (const c of cases)
    test(`release() of ${c.name}`, () => {
      const owners = new ReceivedDataOwners();
      const { payload, owner } = c.setup(owners);
      expect(c.released.map(() => owners.release(payload))).toEqual(c.released);
      // What was released reads as empty: its memory is gone, as the caller promised it no longer needs it.
      if (owner !== undefined) expect(owner.byteLength).toBe(0);
    });
});
