/** @module The PAT/PMT packets a TS demuxer keeps, one per table PID, so that the repeats of an unchanged table are skipped unread (ISO/IEC 13818-1 2.4.4). */
import { TABLE_SLOT_BYTES, TABLE_SLOTS } from "../kernel-memory.ts";
import { TS_PACKET_LENGTH } from "./ts-packet.ts";
import { KIND_CALLER, KIND_TABLE_SLOT } from "./ts-packet-kernel.ts";

/** continuity_counter is the low nibble of a TS packet's fourth byte, ISO/IEC 13818-1 2.4.3.2. */
const CONTINUITY_BYTE = 3;

/**
 * Which table PID uses which of the TABLE_SLOTS packet slots. The slots and the per-PID kinds are views of the
 * demuxer's PID state (its own, or the WebAssembly kernel's copy during a push it walks), so they are handed in
 * by use() whenever that state moves; the kernel skips repeats by the same rule (ts-packet-walk.wat).
 */
export class TsTableSlots {
  readonly #slotOf = new Map<number, number>();
  #kinds: Uint8Array = new Uint8Array(0);
  #slots: Uint8Array = new Uint8Array(0);

  /** The PID kinds and the slot bytes to read and write from now on. */
  use(kinds: Uint8Array, slots: Uint8Array): void {
    this.#kinds = kinds;
    this.#slots = slots;
  }

  /**
   * After a PAT/PMT packet of `pid` was read: `packet` (its 188 TS bytes) when the read was clean, kept in a
   * slot so that its repeats are skipped (a PID beyond the slots has every packet read), else undefined, and
   * the PID's next packet is read again.
   */
  keep(pid: number, packet: Uint8Array | undefined): void {
    let slot = this.#slotOf.get(pid);
    if (packet !== undefined && slot === undefined && this.#slotOf.size < TABLE_SLOTS) {
      slot = this.#slotOf.size;
      this.#slotOf.set(pid, slot);
    }
    if (packet === undefined || slot === undefined) {
      this.#kinds[pid] = KIND_CALLER;
      return;
    }
    this.#slots.set(packet, slot * TABLE_SLOT_BYTES);
    this.#kinds[pid] = KIND_TABLE_SLOT + slot;
  }

  /**
   * Whether the TS packet at `buf[at]` of table PID `pid` equals, but for its continuity_counter, the one kept
   * after the PID's last clean read: reading it would change nothing (TsProgramTables.push).
   */
  isRepeat(pid: number, buf: Uint8Array, at: number): boolean {
    const kind = this.#kinds[pid] as number;
    if (kind < KIND_TABLE_SLOT) return false;
    const slots = this.#slots;
    const ref = (kind - KIND_TABLE_SLOT) * TABLE_SLOT_BYTES;
    for (let i = 0; i < TS_PACKET_LENGTH; i++) {
      const mask = i === CONTINUITY_BYTE ? 0xf0 : 0xff;
      if (((buf[at + i] as number) & mask) !== ((slots[ref + i] as number) & mask)) return false;
    }
    return true;
  }
}
