/** @module Indexes a whole recording held in memory, MP4 ranges served from the same bytes. */
import type { RecordingIndex } from "../recording-index.ts";
import { RecordingIndexer } from "./recording-indexer.ts";

/** Indexes a whole recording held in memory (MP4 ranges asked by finish() are served from the same bytes). */
export function indexRecording(bytes: Uint8Array): RecordingIndex {
  const indexer = new RecordingIndexer();
  indexer.push(bytes);
  for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  return indexer.result();
}
