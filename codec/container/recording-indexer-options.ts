/** @module What a RecordingIndexer is made with: a video observer riding on its scan, and how much of the index it keeps. */
import type { VideoObserver } from "./video-observer.ts";

/** RecordingIndexer's constructor options. */
export interface RecordingIndexerOptions {
  videoObserver?: VideoObserver;
  /** Gather RecordingIndex.details (inspect): stream properties and the other streams of a PS/TS. */
  details?: boolean;
  /**
   * With details, also each picture's pos and PTS/DTS (inspect --json): ~10 ms more on a 290 MB TS, where the
   * time stamps the TS kernel stepped over are read back (ts-block-timestamps.ts).
   */
  pictureDetails?: boolean;
  /**
   * false: forget each MPEG-1/2 picture and GOP once it is mapped (result() then lists neither; the counts and
   * protected ranges are whole), so the index of a long recording stays bounded (a send's pass 1).
   * Ignored with details, or a videoObserver: one that takes them (VideoObserver.picture) lets the indexer
   * forget them, one that does not reads them from `pictures`. Default true.
   */
  retainPictures?: boolean;
}
