/** @module The contract inspect and split rely on to reuse read buffers: RecordingIndexer keeps no view of a chunk after push() returns. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import { testRecordings } from "../support/pvrlink-process.ts";

describe("RecordingIndexer", () => {
  for (const path of testRecordings()) {
    for (const size of [188, 4093, 65_536]) {
      test(`keeps no view of a pushed chunk: ${basename(path)} in ${size}-byte chunks, each overwritten after push()`, () => {
        const bytes = new Uint8Array(readFileSync(path));
        const scratch = new Uint8Array(size);
        const indexer = new RecordingIndexer();
        for (let at = 0; at < bytes.length; at += size) {
          const piece = bytes.subarray(at, at + size);
          scratch.set(piece);
          indexer.push(scratch.subarray(0, piece.length));
          // What a reused read buffer does to anything still pointing into it.
          scratch.fill(0x47);
        }
        for (
          let round = 0, need = indexer.finish();
          need.length > 0 && round < 8;
          round++, need = indexer.finish()
        ) {
          for (const r of need) indexer.supply(r.offset, bytes.slice(r.offset, r.offset + r.length));
        }
        expect(indexer.result()).toEqual(indexRecording(bytes));
      });
    }
  }
});
