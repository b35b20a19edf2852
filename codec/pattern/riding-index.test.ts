/** @module Tests of ridingIndex(): the riding indexer's own result, or a clear error for a missing indexer or another container. */
import { describe, expect, test } from "bun:test";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { indexRecording } from "../container/index-recording.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import { ridingIndex } from "./riding-index.ts";

function indexerOf(bytes: Uint8Array): RecordingIndexer {
  const indexer = new RecordingIndexer();
  indexer.push(bytes);
  indexer.finish();
  return indexer;
}

describe("ridingIndex()", () => {
  const fixture = (name: string) => patternFixtures().find(([n]) => n === name)![1];
  const ts = fixture("containers/ts-mpeg2.ts");
  const es = fixture("es/mpeg2-gop12.m2v");
  test("ridingIndex() returns the indexer's own result when the containers agree", () => {
    const own = ridingIndex(indexerOf(ts), indexRecording(ts));
    expect(own.container).toBe("ts");
  });
  const errors: Array<[string, () => unknown, ErrorConstructor | TypeErrorConstructor, RegExp]> = [
    ["no indexer", () => ridingIndex(undefined, indexRecording(ts)), TypeError, /made without withIndexer/],
    [
      "another container",
      () => ridingIndex(indexerOf(es), indexRecording(ts)),
      RangeError,
      /index is of a ts recording, the bytes are es/,
    ],
  ];
  for (const [name, run, kind, message] of errors) {
    test(`ridingIndex() rejects ${name}`, () => {
      expect(run).toThrow(kind);
      expect(run).toThrow(message);
    });
  }
});
