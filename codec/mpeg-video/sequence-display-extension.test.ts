/** @module Tests for parseSequenceDisplayExtension(). */
import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { parseSequenceDisplayExtension } from "./sequence-display-extension.ts";

/** 00 00 01 B5, id 2, video_format 1 (PAL), no colour, display 720 x 576. */
function display(width: number, height: number, marker = 1, colour?: [number, number, number]): Uint8Array {
  let bits = `0010001${colour ? "1" : "0"}`;
  if (colour) for (const c of colour) bits += c.toString(2).padStart(8, "0");
  bits += width.toString(2).padStart(14, "0") + String(marker) + height.toString(2).padStart(14, "0");
  while (bits.length % 8) bits += "0";
  const out = [0, 0, 1, 0xb5];
  for (let i = 0; i < bits.length; i += 8) out.push(Number.parseInt(bits.slice(i, i + 8), 2));
  return new Uint8Array(out);
}

describe("parseSequenceDisplayExtension()", () => {
  const valid: [string, Uint8Array, object][] = [
    [
      "720x576 PAL",
      display(720, 576),
      { videoFormat: 1, colour: null, displayWidth: 720, displayHeight: 576 },
    ],
    [
      "with colour description",
      display(1920, 1080, 1, [1, 1, 1]),
      { colour: { primaries: 1, transfer: 1, matrix: 1 }, displayWidth: 1920, displayHeight: 1080 },
    ],
  ];
  for (const [name, bytes, want] of valid)
    test(`parseSequenceDisplayExtension() reads ${name}`, () => {
      expect(parseSequenceDisplayExtension(bytes, 0)).toMatchObject(want);
    });

  const invalid: [string, Uint8Array, string][] = [
    ["a zero marker bit", display(720, 576, 0), "ERR_SEQUENCE_DISPLAY_MARKER"],
    ["a cut-off extension", display(720, 576).subarray(0, 7), "ERR_SEQUENCE_DISPLAY_EXTENSION_TRUNCATED"],
    ["another extension id", new Uint8Array([0, 0, 1, 0xb5, 0x81, 0, 0, 0, 0]), "ERR_EXTENSION_ID"],
    ["no start code", new Uint8Array([0, 0, 1, 0xb3, 0x20, 0, 0, 0, 0]), "ERR_START_CODE"],
  ];
  for (const [name, bytes, code] of invalid)
    test(`parseSequenceDisplayExtension() rejects ${name}`, () =>
      expectCodecError(() => parseSequenceDisplayExtension(bytes, 0), code));
});
