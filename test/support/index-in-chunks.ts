/** @module Streams a recording through a RecordingIndexer in chunks of the sizes a function draws, serving what finish() asks (tests). */
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import type { RecordingIndexerOptions } from "../../codec/container/recording-indexer-options.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";

export function indexInChunks(
  file: Uint8Array,
  nextSize: () => number,
  options: RecordingIndexerOptions = {},
): RecordingIndex {
  const indexer = new RecordingIndexer(options);
  for (let i = 0; i < file.length; ) {
    const n = Math.max(1, nextSize());
    indexer.push(file.subarray(i, i + n));
    i += n;
  }
  for (const r of indexer.finish()) indexer.supply(r.offset, file.subarray(r.offset, r.offset + r.length));
  return indexer.result();
}
