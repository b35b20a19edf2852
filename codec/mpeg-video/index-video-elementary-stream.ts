/** @module Indexes a whole MPEG-1/2 video elementary stream held in memory. */
import { VideoIndexer } from "./video-indexer.ts";

/** Indexes a whole ES held in memory: one push and end. */
export function indexVideoElementaryStream(bytes: Uint8Array): VideoIndexer {
  const indexer = new VideoIndexer();
  indexer.push(bytes);
  indexer.end();
  return indexer;
}
