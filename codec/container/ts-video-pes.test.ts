/** @module Tests for TsVideoPes: PES headers whole or spread over packets, their errors, and the state it reports. */
import { describe, expect, test } from "bun:test";
import { pes2 } from "../../test/support/synthetic-container-streams.ts";
import { type PesState, TsVideoPes } from "./ts-video-pes.ts";

function record() {
  const video: string[] = [];
  const errors: string[] = [];
  const states: PesState[] = [];
  const pes = new TsVideoPes({
    video: (bytes, start, end, fileOffset, unitOffset) =>
      video.push(`${fileOffset}/${unitOffset} ${[...bytes.subarray(start, end)].join(",")}`),
    error: (offset, code) => errors.push(`${offset} ${code}`),
    state: (s) => states.push(s),
  });
  return { pes, video, errors, states };
}

const es = new Uint8Array([0, 0, 1, 0xb3, 7, 8]);

describe("TsVideoPes", () => {
  test("TsVideoPes hands on what follows a header whole in its packet, then whole payloads", () => {
    const { pes, video, errors, states } = record();
    const first = pes2(0xe0, es, { pts: 90, length0: true });
    pes.payload(first, 0, first.length, true, 1004, 1000);
    pes.payload(new Uint8Array([9, 9]), 0, 2, false, 1192, 1188);
    expect(video).toEqual(["1018/1000 0,0,1,179,7,8", "1192/1188 9,9"]);
    expect(errors).toEqual([]);
    expect(states).toEqual(["header", "payload"]);
  });

  test("TsVideoPes joins a header spread over three packets and keeps each piece's position", () => {
    const { pes, video } = record();
    const whole = pes2(0xe0, es, { pts: 90, extraHeader: 6, length0: true }); // 9 + 5 + 6 = 20 header bytes
    pes.payload(whole, 0, 7, true, 0, 0);
    pes.payload(whole, 7, 16, false, 200, 196);
    pes.payload(whole, 16, whole.length, false, 400, 396);
    expect(video).toEqual(["404/396 0,0,1,179,7,8"]);
  });

  const errorCases: [string, Uint8Array, string][] = [
    ["an audio stream_id", pes2(0xc0, es, { length0: true }), "ERR_PES_STREAM_ID"],
    [
      "PTS_DTS_flags '01'",
      (() => {
        const b = pes2(0xe0, es, { pts: 1, length0: true });
        b[7] = 0x40;
        return b;
      })(),
      "ERR_PES_HEADER",
    ],
    [
      "no start code prefix",
      (() => {
        const b = pes2(0xe0, es, { length0: true });
        b[2] = 0;
        return b;
      })(),
      "ERR_PES_START_CODE",
    ],
  ];
  for (const [name, bytes, code] of errorCases) {
    test(`TsVideoPes rejects a PES with ${name} and drops its payload until the next start`, () => {
      const { pes, video, errors, states } = record();
      pes.payload(bytes, 0, bytes.length, true, 50, 46);
      pes.payload(new Uint8Array([1, 2]), 0, 2, false, 238, 234);
      expect(errors).toEqual([`50 ${code}`]);
      expect(video).toEqual([]);
      expect(states).toEqual(["header", "none"]);
    });
  }

  test("TsVideoPes reports a header cut off by the next PES start", () => {
    const { pes, video, errors } = record();
    const whole = pes2(0xe0, es, { pts: 90, length0: true });
    pes.payload(whole, 0, 5, true, 10, 6);
    pes.payload(whole, 0, whole.length, true, 198, 194);
    expect(errors).toEqual(["10 ERR_PES_TRUNCATED"]);
    expect(video).toEqual(["212/194 0,0,1,179,7,8"]);
  });

  test("TsVideoPes ignores payload before any PES start and after abort()", () => {
    const { pes, video, states } = record();
    pes.payload(es, 0, es.length, false, 0, 0);
    const whole = pes2(0xe0, es, { length0: true });
    pes.payload(whole, 0, whole.length, true, 188, 188);
    pes.abort();
    pes.payload(es, 0, es.length, false, 376, 376);
    expect(video).toEqual(["197/188 0,0,1,179,7,8"]);
    expect(states).toEqual(["header", "payload", "none"]);
  });
});
