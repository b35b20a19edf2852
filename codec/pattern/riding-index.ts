/** @module The index of the bytes a riding pattern planner saw, checked against the index the caller plans with. */
import type { RecordingIndexer } from "../container/recording-indexer.ts";
import type { RecordingIndex } from "../recording-index.ts";

/**
 * `indexer`'s own result, after checking that `index` (the caller's index of the same recording) is of the same
 * container: a plan from one recording's bytes must not be applied to another's. TypeError when the planner was
 * never given its indexer; RangeError when the containers differ.
 */
export function ridingIndex(indexer: RecordingIndexer | undefined, index: RecordingIndex): RecordingIndex {
  if (indexer === undefined) throw new TypeError("Cannot plan pattern ranges: made without withIndexer()");
  const own = indexer.result();
  if (index.container !== own.container) {
    throw new RangeError(
      `Cannot plan pattern ranges: the index is of a ${index.container} recording, the bytes are ${own.container}`,
    );
  }
  return own;
}
