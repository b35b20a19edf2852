/** @module Cuts one payload into DATA messages of at most 1 MiB each, in order; an empty payload is one empty DATA. */
import { MAX_DATA_BYTES } from "./direct-frame.ts";
import type { DataMessage } from "./direct-message.ts";

/**
 * The DATA messages that carry `bytes`: views of it, not copies, made one at a time as they are sent. An empty
 * payload still gives one (empty) message, so the peer sees the DATA it was told to expect.
 */
export function* dataFrames(bytes: Uint8Array, clear: boolean): Generator<DataMessage, void, undefined> {
  for (let at = 0; at < bytes.byteLength || at === 0; at += MAX_DATA_BYTES) {
    yield { type: "data", bytes: bytes.subarray(at, at + MAX_DATA_BYTES), clear };
    if (bytes.byteLength === 0) break;
  }
}
