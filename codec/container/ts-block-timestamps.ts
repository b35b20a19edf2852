/** @module The PTS/DTS of the PES headers the TS kernel stepped over while gathering a block of video. */
import { CodecError } from "../codec-error.ts";
import { parsePesHeader } from "./pes-header.ts";
import { TS_HEADER_LENGTH, TS_PACKET_LENGTH } from "./ts-packet.ts";
import { RUN_FIELDS } from "./video-block.ts";

/** payload_unit_start_indicator, adaptation_field_control's adaptation bit (ISO/IEC 13818-1 2.4.3.2). */
const PAYLOAD_UNIT_START = 0x40;
const AFC_ADAPTATION = 0x20;

export interface BlockPackets {
  /** The chunk the block's packets were walked in, and its file offset. */
  buf: Uint8Array;
  base: number;
  packetLength: number;
  /** Bytes before the TS header in each packet (4 in M2TS). */
  syncOffset: number;
}

/**
 * Calls `emit(pts, dts, esOffsetInBlock)` for each packet of the block's runs that starts a PES with a PTS:
 * the kernel (ts-packet-walk.wat) skips whole PES headers itself and keeps only the payload, so the time
 * stamps are read again here from the packets, which are still in the chunk. Packets from an earlier chunk
 * (a PES header the JavaScript path collected) are skipped: that path reported them.
 */
export function blockTimestamps(
  packets: BlockPackets,
  block: { runs: Float64Array; runCount: number },
  emit: (pts: number, dts: number, esOffset: number) => void,
): void {
  const { buf, base, packetLength, syncOffset } = packets;
  let es = 0;
  for (let r = 0; r < RUN_FIELDS * block.runCount; r += RUN_FIELDS) {
    const length = block.runs[r + 2] as number;
    const count = block.runs[r + 3] as number;
    const unit = block.runs[r + 1] as number;
    // A packet whose payload follows the 4-byte header directly carries no PES header: the kernel strips a
    // PES header from its packet, so a PES start always begins a run with a later payload. Most runs (every
    // plain 184-byte payload) are passed over whole.
    if ((block.runs[r] as number) - unit === syncOffset + TS_HEADER_LENGTH) {
      es += length * count;
      continue;
    }
    for (let k = 0; k < count; k++, es += length) {
      const p = unit + k * packetLength - base + syncOffset;
      if (p < 0 || p + TS_PACKET_LENGTH > buf.length || !((buf[p + 1] as number) & PAYLOAD_UNIT_START))
        continue;
      const adaptation = (buf[p + 3] as number) & AFC_ADAPTATION ? 1 + (buf[p + 4] as number) : 0;
      try {
        // In place, no view: the kernel checked that the whole header lies inside this packet.
        const h = parsePesHeader(buf, p + TS_HEADER_LENGTH + adaptation);
        if (h.pts !== undefined) emit(h.pts, h.dts ?? h.pts, es);
      } catch (e) {
        // The kernel took this header whole, so it parses; a damaged one was reported where it was read.
        if (!(e instanceof CodecError)) throw e;
      }
    }
  }
}
