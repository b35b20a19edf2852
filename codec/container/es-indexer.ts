/** @module What RecordingIndexer needs of an elementary-stream indexer, MPEG-1/2 video or H.264 alike. */
import type { GopRecord, IndexError, PictureCounts, PictureRecord, VideoFormat } from "../recording-index.ts";

/** What both elementary-stream indexers (MPEG-1/2 video, H.264 Annex B) offer. */
export interface EsIndexer {
  push(chunk: Uint8Array): void;
  end(): void;
  readonly pictures: PictureRecord[];
  readonly gops: GopRecord[];
  readonly errors: readonly IndexError[];
  readonly counts: PictureCounts;
  readonly format: VideoFormat;
  readonly width: number;
  readonly height: number;
  readonly settledOffset: number;
}
