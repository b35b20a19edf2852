/** @module Test helper: asserts that a strict parser throws CodecError with a given code. */

import { expect } from "bun:test";
import { CodecError } from "../../codec/codec-error.ts";

export function expectCodecError(run: () => unknown, code: string): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CodecError);
  expect((caught as CodecError).code).toBe(code);
}
