/** @module bodyOfSegmented(): the direct body of a version 5 pattern part with its segments taken out, for comparing the wire with version 1's. */
import { concat } from "../../codec/split/split-bytes.ts";

/**
 * The body bytes of `wire` (what follows a version 5 pattern header: segment, stretch, segment, …), read by the
 * segments' own length (bytes 4-7) and body end (bytes 8-15) fields (docs/split-format.md), unchecked.
 */
export function bodyOfSegmented(wire: Uint8Array, bodyLength: number): Uint8Array {
  const v = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  let body = 0;
  do {
    const length = v.getUint32(at + 4);
    const end = Number(v.getBigUint64(at + 8));
    at += length;
    out.push(wire.subarray(at, at + end - body));
    at += end - body;
    body = end;
  } while (body < bodyLength);
  if (at !== wire.length)
    throw new RangeError(`Cannot take the body out: ${wire.length - at} bytes follow it`);
  return concat(out);
}
