/** @module Seeded, packet-aware mutations of 188- and 192-byte TS packet streams for the container's differential tests. */

import { type M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "../../codec/container/ts-packet.ts";
import type { SeededRandom } from "./seeded-random.ts";
import { concat } from "./synthetic-container-streams.ts";

type PacketLength = typeof TS_PACKET_LENGTH | typeof M2TS_PACKET_LENGTH;

/** Packet-aware damage: each returns a damaged copy of a 188- or 192-byte packet stream; the same generator state gives the same damage. */
export type TsMutation = (b: Uint8Array, size: PacketLength, rnd: SeededRandom) => Uint8Array;

function packetStarts(b: Uint8Array, size: number): number[] {
  const starts: number[] = [];
  for (let p = 0; p + size <= b.length; p += size) starts.push(p);
  return starts;
}

function pick<T>(rnd: SeededRandom, list: T[]): T | undefined {
  return list.length === 0 ? undefined : list[rnd.below(list.length)];
}

/** The offset of the TS header of a random packet (after an M2TS packet's 4-byte prefix). */
function header(b: Uint8Array, size: PacketLength, rnd: SeededRandom): number {
  const p = pick(rnd, packetStarts(b, size));
  return p === undefined ? -1 : p + size - TS_PACKET_LENGTH;
}

export const TS_MUTATIONS: Record<string, TsMutation> = {
  flipHeaderBits(b, size, rnd) {
    const out = b.slice();
    for (let i = 0, n = 1 + rnd.below(6); i < n; i++) {
      const h = header(out, size, rnd);
      if (h >= 0) out[h + rnd.below(6)]! ^= 1 << rnd.below(8);
    }
    return out;
  },
  /** Bits flipped where a PES header or an adaptation field would be. */
  flipPayloadStart(b, size, rnd) {
    const out = b.slice();
    for (let i = 0, n = 1 + rnd.below(6); i < n; i++) {
      const h = header(out, size, rnd);
      if (h >= 0) out[h + 4 + rnd.below(20)]! ^= 1 << rnd.below(8);
    }
    return out;
  },
  setFlags(b, size, rnd) {
    const out = b.slice();
    const flags = [0x80, 0x40, 0x20];
    for (let i = 0, n = 1 + rnd.below(4); i < n; i++) {
      const h = header(out, size, rnd);
      if (h < 0) continue;
      if (rnd.below(2)) out[h + 1]! |= flags[rnd.below(3)] as number;
      else out[h + 3]! |= 0x40 << rnd.below(2); // transport_scrambling_control
    }
    return out;
  },
  dropPackets(b, size, rnd) {
    const keep = packetStarts(b, size).filter(() => rnd.below(30) !== 0);
    return concat(...keep.map((p) => b.subarray(p, p + size)));
  },
  duplicatePackets(b, size, rnd) {
    const parts: Uint8Array[] = [];
    for (const p of packetStarts(b, size)) {
      parts.push(b.subarray(p, p + size));
      if (rnd.below(25) === 0) parts.push(b.subarray(p, p + size));
    }
    return concat(...parts);
  },
  insertGarbage(b, _size, rnd) {
    const at = rnd.below(b.length + 1);
    return concat(b.subarray(0, at), rnd.bytes(1 + rnd.below(600)), b.subarray(at));
  },
  overwriteRange(b, _size, rnd) {
    const out = b.slice();
    const at = rnd.below(out.length + 1);
    out.fill(rnd.below(2) ? 0 : 0x47, at, at + rnd.below(900));
    return out;
  },
  truncate: (b, _size, rnd) => b.subarray(0, rnd.below(b.length + 1)),
  startMidStream: (b, _size, rnd) => b.subarray(rnd.below(b.length + 1)),
};
