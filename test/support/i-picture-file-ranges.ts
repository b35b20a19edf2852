/** @module For tests: the file byte ranges that hold I-picture bytes, mapped from the index's elementary-stream offsets. */
import type { DemuxSink } from "../../codec/container/demux-sink.ts";
import { PsDemuxer } from "../../codec/container/ps-demuxer.ts";
import { TsDemuxer } from "../../codec/container/ts-demuxer.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "../../codec/container/ts-packet.ts";
import type { ByteRange, RecordingIndex } from "../../codec/recording-index.ts";

/** Where each demuxed piece of the elementary stream sits in the file. */
interface Piece {
  es: number;
  file: number;
  length: number;
}

function demuxPieces(bytes: Uint8Array, container: RecordingIndex["container"]): Piece[] {
  const pieces: Piece[] = [];
  let es = 0;
  const sink: DemuxSink = {
    video(_bytes, start, end, fileOffset) {
      pieces.push({ es, file: fileOffset, length: end - start });
      es += end - start;
    },
    error() {},
    format() {},
  };
  const demuxer =
    container === "ps"
      ? new PsDemuxer(sink)
      : new TsDemuxer(sink, container === "m2ts" ? M2TS_PACKET_LENGTH : TS_PACKET_LENGTH);
  demuxer.push(bytes);
  demuxer.end();
  return pieces;
}

/**
 * The file ranges of every I-picture's bytes. ES and MP4 offsets are file offsets already; for PS, TS and
 * M2TS the elementary-stream ranges go through a fresh demuxer's piece map (same bytes, same path as the
 * indexer's own), so the check does not trust the index's protectedRanges to say where I-pictures are.
 */
export function iPictureFileRanges(bytes: Uint8Array, index: RecordingIndex): ByteRange[] {
  const iPictures = index.pictures.filter((p) => p.type === "I" && p.length > 0);
  if (index.container === "es" || index.container === "mp4") {
    // A truncated MP4's sample table still lists samples past the end of the file; bytes that are not in
    // the file cannot be in the direct part, so only the part of each picture inside the file counts.
    return iPictures
      .map((p) => ({ offset: p.offset, length: Math.min(p.length, bytes.length - p.offset) }))
      .filter((r) => r.length > 0);
  }
  const pieces = demuxPieces(bytes, index.container);
  const out: ByteRange[] = [];
  let k = 0;
  for (const p of iPictures) {
    const end = p.offset + p.length;
    while (k > 0 && pieces[k]!.es > p.offset) k--;
    for (; k < pieces.length && pieces[k]!.es < end; k++) {
      const piece = pieces[k]!;
      const from = Math.max(p.offset, piece.es);
      const to = Math.min(end, piece.es + piece.length);
      if (to > from) out.push({ offset: piece.file + (from - piece.es), length: to - from });
      if (piece.es + piece.length > end) break;
    }
  }
  return out;
}

/** The first byte of `inner` not covered by `outer` (sorted, disjoint), or -1 when all are covered. */
export function firstUncoveredByte(inner: readonly ByteRange[], outer: readonly ByteRange[]): number {
  for (const r of inner) {
    let at = r.offset;
    const end = r.offset + r.length;
    // Binary search for the last outer range starting at or before `at`.
    let lo = 0;
    let hi = outer.length - 1;
    let j = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (outer[mid]!.offset <= at) {
        j = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (at < end) {
      const o = outer[j];
      if (o === undefined || o.offset > at || o.offset + o.length <= at) return at;
      at = o.offset + o.length;
      j++;
    }
  }
  return -1;
}
