/** @module Tests for TsTableSlots: which PAT/PMT packets are kept, and which repeats are skipped. */
import { describe, expect, test } from "bun:test";
import { PID_COUNT, TABLE_SLOT_BYTES, TABLE_SLOTS } from "../kernel-memory.ts";
import { TS_PACKET_LENGTH } from "./ts-packet.ts";
import { initialPidState, KIND_CALLER, KIND_TABLE_SLOT } from "./ts-packet-kernel.ts";
import { TsTableSlots } from "./ts-table-slots.ts";

/** A table packet of `pid` with continuity_counter `cc` and `fill` as its payload. */
function packet(pid: number, cc: number, fill = 0xab): Uint8Array {
  const p = new Uint8Array(TS_PACKET_LENGTH).fill(fill);
  p[0] = 0x47;
  p[1] = 0x40 | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10 | cc;
  return p;
}

function slots(): { t: TsTableSlots; kinds: Uint8Array; bytes: Uint8Array } {
  const state = initialPidState();
  const kinds = state.subarray(PID_COUNT, 2 * PID_COUNT);
  const bytes = state.subarray(2 * PID_COUNT);
  const t = new TsTableSlots();
  t.use(kinds, bytes);
  return { t, kinds, bytes };
}

describe("TsTableSlots", () => {
  const cases: { name: string; kept: Uint8Array; next: Uint8Array; repeat: boolean }[] = [
    { name: "the same packet", kept: packet(0x100, 3), next: packet(0x100, 3), repeat: true },
    {
      name: "the same packet with the next counter",
      kept: packet(0x100, 3),
      next: packet(0x100, 4),
      repeat: true,
    },
    {
      name: "a packet whose payload changed",
      kept: packet(0x100, 3),
      next: packet(0x100, 4, 0xac),
      repeat: false,
    },
    {
      name: "a packet whose header flags changed",
      kept: packet(0x100, 3),
      next: (() => {
        const p = packet(0x100, 4);
        p[3] = 0x30 | 4; // adaptation field now present
        return p;
      })(),
      repeat: false,
    },
  ];
  for (const c of cases) {
    test(`isRepeat() after keep(): ${c.name} is ${c.repeat ? "" : "not "}a repeat`, () => {
      const { t, kinds, bytes } = slots();
      t.keep(0x100, c.kept);
      expect(kinds[0x100]).toBe(KIND_TABLE_SLOT);
      expect(bytes.subarray(0, TS_PACKET_LENGTH)).toEqual(c.kept);
      expect(t.isRepeat(0x100, c.next, 0)).toBe(c.repeat);
    });
  }

  test("isRepeat() is false for a PID with nothing kept", () => {
    const { t } = slots();
    expect(t.isRepeat(0x100, packet(0x100, 0), 0)).toBe(false);
  });

  test("keep() of an unclean read hands the PID back to the caller and forgets nothing else", () => {
    const { t, kinds } = slots();
    t.keep(0x100, packet(0x100, 0));
    t.keep(0x101, packet(0x101, 0));
    t.keep(0x100, undefined);
    expect(kinds[0x100]).toBe(KIND_CALLER);
    expect(t.isRepeat(0x100, packet(0x100, 1), 0)).toBe(false);
    expect(kinds[0x101]).toBe(KIND_TABLE_SLOT + 1);
    // A clean read later takes the PID's own slot again, not a new one.
    t.keep(0x100, packet(0x100, 2));
    expect(kinds[0x100]).toBe(KIND_TABLE_SLOT);
  });

  test("keep() beyond TABLE_SLOTS PIDs has every packet of the extra PIDs read", () => {
    const { t, kinds } = slots();
    for (let i = 0; i < TABLE_SLOTS; i++) t.keep(0x200 + i, packet(0x200 + i, 0));
    t.keep(0x300, packet(0x300, 0));
    expect(kinds[0x300]).toBe(KIND_CALLER);
    expect(t.isRepeat(0x300, packet(0x300, 1), 0)).toBe(false);
    expect(kinds[0x200 + TABLE_SLOTS - 1]).toBe(KIND_TABLE_SLOT + TABLE_SLOTS - 1);
  });

  test("use() moves the slots to another state: what was kept goes with the copied state", () => {
    const { t, kinds, bytes } = slots();
    t.keep(0x100, packet(0x100, 0));
    const other = initialPidState();
    other.set(new Uint8Array(kinds.buffer, kinds.byteOffset - PID_COUNT, other.length));
    t.use(other.subarray(PID_COUNT, 2 * PID_COUNT), other.subarray(2 * PID_COUNT));
    bytes.fill(0); // the old state no longer counts
    expect(t.isRepeat(0x100, packet(0x100, 1), 0)).toBe(true);
    expect(TABLE_SLOT_BYTES).toBeGreaterThanOrEqual(TS_PACKET_LENGTH);
  });
});
