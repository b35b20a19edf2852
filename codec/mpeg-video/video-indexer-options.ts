/** @module What a VideoIndexer is made with: the callbacks of a second reader riding on its scan, and the scanner's kernel. */
import type { PictureRecord } from "../recording-index.ts";
import type { StartCodeScannerOptions } from "./start-code-scanner.ts";

/** VideoIndexer's constructor options; none is needed for an index alone. */
export interface VideoIndexerOptions {
  /**
   * Sees every start code in stream order (every slice too) with the offset of its 00 00 01, before the indexer
   * handles it: a second reader of the stream (the pattern planner) rides on this scan instead of scanning again.
   */
  onStartCode?: (code: number, offset: number) => void;
  /**
   * Sees each picture as it is final (after onStartCode has seen the start code that ends it), so a reader can
   * keep what it needs and the indexer's list can be released (RecordingIndexer, VideoObserver.picture).
   */
  onPicture?: (p: PictureRecord) => void;
  /** The scanner's kernel (StartCodeScannerOptions): the index is the same with and without it. */
  kernel?: StartCodeScannerOptions["kernel"];
}
