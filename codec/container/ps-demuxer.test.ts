import { describe, expect, test } from "bun:test";
import {
  concat,
  pack1,
  pack2,
  pes1,
  pes2,
  pesRaw,
  programStreamMap,
  systemHeader,
} from "../../test/support/synthetic-container-streams.ts";
import { PsDemuxer } from "./ps-demuxer.ts";

interface Run {
  es: Uint8Array;
  pieces: { fileOffset: number; unitOffset: number; unitLength: number; length: number }[];
  errors: { offset: number; code: string }[];
  demuxer: PsDemuxer;
}

function demux(file: Uint8Array, chunk = file.length): Run {
  const parts: Uint8Array[] = [];
  const run: Run = {
    es: new Uint8Array(),
    pieces: [],
    errors: [],
    demuxer: undefined as unknown as PsDemuxer,
  };
  run.demuxer = new PsDemuxer({
    video: (bytes, start, end, fileOffset, unitOffset, unitLength) => {
      const payload = bytes.subarray(start, end);
      parts.push(payload.slice());
      run.pieces.push({ fileOffset, unitOffset, unitLength, length: payload.length });
    },
    error: (offset, code) => run.errors.push({ offset, code }),
    format: () => {},
  });
  for (let i = 0; i < file.length; i += chunk) run.demuxer.push(file.subarray(i, i + chunk));
  run.demuxer.end();
  run.es = concat(...parts);
  return run;
}

const videoA = new Uint8Array([0, 0, 1, 0xb3, 1, 2, 3, 4, 0, 0, 1, 0x00, 9, 9]);
const videoB = new Uint8Array([0, 0, 1, 0x01, 7, 7, 7, 0, 0, 1, 0x00, 5]);
/** Audio and private payloads full of start codes, which must not leak into the video stream. */
const audio = new Uint8Array([0, 0, 1, 0xb3, 0, 0, 1, 0x00, 0, 0, 1, 0xba, 0x44, 0, 0, 1, 0xe0, 0, 3]);
const privateData = new Uint8Array([0x80, 1, 0, 0, 0, 0, 1, 0x00, 0x11]);

function mpeg2Stream(): { file: Uint8Array; videoOffsets: number[] } {
  const parts = [
    pack2(0, 2),
    systemHeader(),
    programStreamMap([
      { streamType: 0x02, streamId: 0xe0 },
      { streamType: 0x81, streamId: 0xbd },
    ]),
    pes2(0xe0, videoA, { pts: 3600 }),
    pes2(0xc0, audio, { pts: 3600 }),
    pes2(0xbd, privateData),
    pesRaw(0xbe, new Uint8Array(30).fill(0xff)),
    pack2(900),
    pes2(0xe1, new Uint8Array([0, 0, 1, 0xb3, 0xee])),
    pes2(0xe0, videoB),
    new Uint8Array([0, 0, 1, 0xb9]),
  ];
  const offsets: number[] = [];
  let o = 0;
  for (const p of parts) {
    offsets.push(o);
    o += p.length;
  }
  return { file: concat(...parts), videoOffsets: [offsets[3]!, offsets[9]!] };
}

describe("PsDemuxer", () => {
  test("PsDemuxer passes only the first video stream, stepping over audio, private and padding PES", () => {
    const { file, videoOffsets } = mpeg2Stream();
    const run = demux(file);
    expect(run.errors).toEqual([]);
    expect(run.es).toEqual(concat(videoA, videoB));
    expect(run.demuxer.videoStream).toBe(0xe0);
    expect(run.demuxer.packVersion).toBe(2);
    expect(run.demuxer.streamTypes.get(0xe0)).toBe(0x02);
    expect(run.pieces.map((p) => p.unitOffset)).toEqual(videoOffsets);
    expect(run.pieces.map((p) => p.unitLength)).toEqual([
      pes2(0xe0, videoA, { pts: 3600 }).length,
      pes2(0xe0, videoB).length,
    ]);
    for (const p of run.pieces)
      expect(file.subarray(p.fileOffset, p.fileOffset + p.length)).toEqual(
        p.length === videoA.length ? videoA : videoB,
      );
  });

  test("PsDemuxer reads MPEG-1 packs and packet headers", () => {
    const file = concat(
      pack1(0),
      pes1(0xe0, videoA, { stuffing: 5, pts: 1 }),
      pes1(0xc0, audio),
      pack1(1000),
      pes1(0xe0, videoB),
    );
    const run = demux(file);
    expect(run.errors).toEqual([]);
    expect(run.demuxer.packVersion).toBe(1);
    expect(run.es).toEqual(concat(videoA, videoB));
  });

  test("PsDemuxer gives the same result for every chunk size", () => {
    const { file } = mpeg2Stream();
    const whole = demux(file);
    for (const size of [1, 2, 3, 5, 13, 64, 1000]) {
      const run = demux(file, size);
      expect(run.es).toEqual(whole.es);
      expect(run.pieces.map((p) => p.unitOffset)).toEqual(whole.pieces.map((p) => p.unitOffset));
      expect(run.errors).toEqual(whole.errors);
    }
  });

  test("PsDemuxer reports lost sync with its offset and resumes at the next pack", () => {
    const garbage = new Uint8Array([1, 2, 3, 0, 0, 1, 0x00, 4, 5]);
    const first = concat(pack2(), pes2(0xe0, videoA));
    const file = concat(first, garbage, pack2(), pes2(0xe0, videoB));
    const run = demux(file, 7);
    expect(run.errors).toEqual([{ offset: first.length, code: "ERR_PS_SYNC" }]);
    expect(run.es).toEqual(concat(videoA, videoB));
  });

  test("PsDemuxer reports a corrupt pack header and resumes", () => {
    const bad = pack2();
    bad[4] = 0xc4;
    const file = concat(pack2(), pes2(0xe0, videoA), bad, pes2(0xe0, videoB));
    const run = demux(file);
    expect(run.errors.map((e) => e.code)).toEqual(["ERR_PS_PACK_HEADER"]);
    expect(run.es).toEqual(concat(videoA, videoB));
  });

  test("PsDemuxer reports a truncated last packet and still passes its video bytes", () => {
    const full = concat(pack2(), pes2(0xe0, videoA), pes2(0xe0, videoB));
    const file = full.subarray(0, full.length - 4);
    const run = demux(file, 10);
    expect(run.errors.map((e) => e.code)).toEqual(["ERR_PS_TRUNCATED"]);
    expect(run.es).toEqual(concat(videoA, videoB.subarray(0, videoB.length - 4)));
  });

  test("PsDemuxer reports a bad video PES header and PES_packet_length 0, and skips them", () => {
    const badHeader = new Uint8Array([0, 0, 1, 0xe0, 0, 4, 0x80, 0x40, 0, 0]);
    const zero = new Uint8Array([0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0]);
    const file = concat(pack2(), badHeader, pes2(0xe0, videoA), zero, pack2(), pes2(0xe0, videoB));
    const run = demux(file);
    expect(run.errors.map((e) => e.code)).toEqual(["ERR_PES_HEADER", "ERR_PES_LENGTH"]);
    expect(run.es).toEqual(concat(videoA, videoB));
  });

  test("PsDemuxer survives random bytes without throwing", () => {
    const bytes = new Uint8Array(20000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 3) * 31) & 0xff;
    const run = demux(concat(pack2(), bytes, pack2(), pes2(0xe0, videoA)), 333);
    expect(run.es.subarray(run.es.length - videoA.length)).toEqual(videoA);
  });
});
