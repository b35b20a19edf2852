/** @module The eavesdropper's view of an H.264 recording's direct part, seed or cbcs, as an Annex B stream ffmpeg can decode. */
import { cbcsSliceBlocks } from "../../codec/container/cbcs-slice-blocks.ts";
import { H264EsIndexer } from "../../codec/container/h264-es-indexer.ts";
import { DEFAULT_H264_PATTERN_SCHEME, PATTERN_BLOCK_BYTES } from "../../codec/pattern/pattern-scheme.ts";
import type { PictureRecord } from "../../codec/recording-index.ts";
import type { CbcsTransform } from "../../crypto/cbcs-cipher.ts";

/** An Annex B stream's access units and, per coded slice, where its data starts and ends. */
export interface H264EsLayout {
  pictures: PictureRecord[];
  slices: Array<{ nalStart: number; dataStart: number; nalEnd: number }>;
}

export function h264EsLayout(es: Uint8Array): H264EsLayout {
  const slices: H264EsLayout["slices"] = [];
  const indexer = new H264EsIndexer({
    onSlice: (nalStart, dataStart, nalEnd) => slices.push({ nalStart, dataStart, nalEnd }),
  });
  indexer.push(es);
  indexer.end();
  return { pictures: indexer.pictures, slices };
}

/**
 * What the direct path carries of an H.264 ES, made decodable the way the MPEG-2 bench does it: every I access
 * unit (which travels sealed, parameter sets included) becomes `greyAu`, the first access unit of a grey clip
 * encoded with the same settings (its SPS/PPS equal the original's, so an attacker who guesses the encoder's
 * usual settings gets the same), and in cbcs mode every P/B slice has its blocks (cbcsSliceBlocks(): 1:9 and the last) encrypted under a key the
 * attacker does not hold. Returns the view and how many slices were encrypted.
 */
export function h264LeakView(
  es: Uint8Array,
  layout: H264EsLayout,
  options: { greyAu: Uint8Array; cbcs?: CbcsTransform; tail?: boolean },
): { view: Uint8Array; encryptedSlices: number } {
  const parts: Uint8Array[] = [];
  let encryptedSlices = 0;
  // `tail: false`: the layout before each slice's last block was encrypted (bench/leak-h264.ts --no-tail).
  const scheme = {
    ...(DEFAULT_H264_PATTERN_SCHEME as { crypt: number; skip: number }),
    tail: options.tail !== false,
  };
  let s = 0;
  for (const p of layout.pictures) {
    const end = p.offset + p.length;
    if (p.type === "I") {
      parts.push(options.greyAu);
      while (s < layout.slices.length && layout.slices[s]!.nalStart < end) s++;
      continue;
    }
    const au = es.slice(p.offset, end);
    for (; s < layout.slices.length && layout.slices[s]!.nalStart < end; s++) {
      const sl = layout.slices[s]!;
      if (!options.cbcs || sl.dataStart < 0) continue;
      const blocks: number[] = [];
      const restarts: number[] = [];
      cbcsSliceBlocks(sl.dataStart, sl.nalEnd, scheme, (at, chain) => {
        if (chain) restarts.push(blocks.length);
        blocks.push(at - p.offset);
      });
      if (blocks.length === 0) continue;
      const gathered = new Uint8Array(blocks.length * PATTERN_BLOCK_BYTES);
      for (const [i, b] of blocks.entries()) {
        gathered.set(au.subarray(b, b + PATTERN_BLOCK_BYTES), i * PATTERN_BLOCK_BYTES);
      }
      options.cbcs(gathered, restarts);
      for (const [i, b] of blocks.entries()) {
        au.set(gathered.subarray(i * PATTERN_BLOCK_BYTES, (i + 1) * PATTERN_BLOCK_BYTES), b);
      }
      encryptedSlices++;
    }
    parts.push(au);
  }
  const view = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    view.set(x, at);
    at += x.length;
  }
  return { view, encryptedSlices };
}
