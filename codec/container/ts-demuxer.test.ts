import { describe, expect, test } from "bun:test";
import {
  concat,
  packetize,
  patSection,
  pes2,
  pmtSection,
  tsPacket,
} from "../../test/support/synthetic-container-streams.ts";
import type { VideoFormat } from "../recording-index.ts";
import { TsDemuxer } from "./ts-demuxer.ts";

const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;
const PMT_PID = 0x1000;

interface Run {
  es: Uint8Array;
  pieces: { fileOffset: number; unitOffset: number; unitLength: number; length: number }[];
  errors: { offset: number; code: string }[];
  formats: VideoFormat[];
}

function demux(file: Uint8Array, packetLength: 188 | 192 = 188, chunk = file.length): Run {
  const parts: Uint8Array[] = [];
  const run: Run = { es: new Uint8Array(), pieces: [], errors: [], formats: [] };
  const d = new TsDemuxer(
    {
      video: (bytes, start, end, fileOffset, unitOffset, unitLength) => {
        const payload = bytes.subarray(start, end);
        parts.push(payload.slice());
        run.pieces.push({ fileOffset, unitOffset, unitLength, length: payload.length });
      },
      error: (offset, code) => run.errors.push({ offset, code }),
      format: (f) => run.formats.push(f),
    },
    packetLength,
  );
  for (let i = 0; i < file.length; i += chunk) d.push(file.subarray(i, i + chunk));
  d.end();
  run.es = concat(...parts);
  return run;
}

function videoBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  b.set([0, 0, 1, 0xb3], 0);
  return b;
}

const es1 = videoBytes(500, 1);
const es2 = videoBytes(300, 2);

/** PAT, PMT (video + audio), two video PES of several packets each, audio between them. */
function packets(streamType = 0x02, pmtStreams = 0): Uint8Array[] {
  const extra = Array.from({ length: pmtStreams }, (_, i) => ({ streamType: 0x06, pid: 0x300 + i }));
  return [
    ...packetize(
      0,
      patSection([
        { programNumber: 0, pid: 0x10 },
        { programNumber: 1, pid: PMT_PID },
      ]),
      0,
      true,
    ),
    ...packetize(
      PMT_PID,
      pmtSection(1, VIDEO_PID, [
        ...extra,
        { streamType, pid: VIDEO_PID },
        { streamType: 0x03, pid: AUDIO_PID },
      ]),
      0,
      true,
    ),
    ...packetize(VIDEO_PID, pes2(0xe0, es1, { length0: true, pts: 1 }), 0),
    ...packetize(AUDIO_PID, pes2(0xc0, new Uint8Array([0, 0, 1, 0xb3, 0, 0, 1, 0]), { pts: 1 }), 0),
    ...packetize(VIDEO_PID, pes2(0xe0, es2, { length0: true }), 3),
  ];
}

describe("TsDemuxer", () => {
  test("TsDemuxer follows PAT and PMT to the video PID and reassembles its PES", () => {
    const list = packets();
    const run = demux(concat(...list));
    expect(run.errors).toEqual([]);
    expect(run.formats).toEqual(["mpeg2"]);
    expect(run.es).toEqual(concat(es1, es2));
    for (const p of run.pieces) {
      expect(p.unitLength).toBe(188);
      expect(p.unitOffset % 188).toBe(0);
      expect(p.fileOffset).toBeGreaterThan(p.unitOffset);
      expect(p.fileOffset + p.length).toBe(p.unitOffset + 188);
    }
  });

  test("TsDemuxer finds a PMT spread over several packets", () => {
    const run = demux(concat(...packets(0x02, 60)));
    expect(run.errors).toEqual([]);
    expect(run.es).toEqual(concat(es1, es2));
  });

  test("TsDemuxer reports H.264 and MPEG-1 stream types as formats", () => {
    expect(demux(concat(...packets(0x1b))).formats).toEqual(["h264"]);
    expect(demux(concat(...packets(0x01))).formats).toEqual(["mpeg1"]);
  });

  test("TsDemuxer reads 192-byte M2TS packets", () => {
    const list = packets().map((p, i) => concat(new Uint8Array([0x40, 0, i >> 8, i & 0xff]), p));
    const run = demux(concat(...list), 192, 1000);
    expect(run.errors).toEqual([]);
    expect(run.es).toEqual(concat(es1, es2));
    expect(run.pieces.every((p) => p.unitLength === 192 && p.unitOffset % 192 === 0)).toBe(true);
  });

  test("TsDemuxer gives the same result for every chunk size", () => {
    const file = concat(...packets(0x02, 60));
    const whole = demux(file);
    for (const size of [1, 7, 187, 188, 189, 500]) {
      const run = demux(file, 188, size);
      expect(run.es).toEqual(whole.es);
      expect(run.pieces).toEqual(whole.pieces);
    }
  });

  test("TsDemuxer reports a continuity gap at the packet's offset", () => {
    const list = packets();
    list.splice(3, 1); // the middle packet of the first video PES (counter 1)
    const run = demux(concat(...list));
    expect(run.errors).toEqual([{ offset: 3 * 188, code: "ERR_TS_CONTINUITY" }]);
    expect(run.es.length).toBe(es1.length + es2.length - 184);
  });

  test("TsDemuxer drops a duplicate packet silently and accepts a flagged discontinuity", () => {
    const list = packets();
    const i = 3; // first video packet
    list.splice(i + 1, 0, list[i]!.slice());
    const withJump = tsPacket(VIDEO_PID, new Uint8Array(10).fill(0x77), { cc: 9, discontinuity: true });
    const run = demux(concat(...list, withJump));
    expect(run.errors).toEqual([]);
    expect(run.es).toEqual(concat(es1, es2, new Uint8Array(10).fill(0x77)));
  });

  test("TsDemuxer drops packets with transport_error_indicator and reports them", () => {
    const list = packets();
    const bad = list[2]!.slice();
    bad[1]! |= 0x80;
    list[2] = bad;
    const run = demux(concat(...list));
    // The PES start is gone, so the rest of that PES has no header and is dropped too.
    expect(run.errors).toEqual([{ offset: 2 * 188, code: "ERR_TS_TRANSPORT_ERROR" }]);
    expect(run.es).toEqual(es2);
  });

  test("TsDemuxer resyncs after garbage and reports the loss once", () => {
    const list = packets();
    const head = concat(...list.slice(0, 5));
    const garbage = Uint8Array.from({ length: 77 }, (_, i) => (i % 5 === 1 ? 0x47 : i));
    const file = concat(head, garbage, ...list.slice(5));
    const run = demux(file, 188, 100);
    expect(run.errors).toEqual([{ offset: head.length, code: "ERR_TS_SYNC" }]);
    expect(run.es.subarray(run.es.length - es2.length)).toEqual(es2);
  });

  test("TsDemuxer joins a PES header spread over two packets", () => {
    const pes = pes2(0xe0, es1, { length0: true, extraHeader: 250 });
    const list = [...packets().slice(0, 2), ...packetize(VIDEO_PID, pes, 0)];
    const run = demux(concat(...list));
    expect(run.errors).toEqual([]);
    expect(run.es).toEqual(es1);
  });

  test("TsDemuxer reports a truncated last packet and a CRC error in the PMT", () => {
    const list = packets();
    const pmt = list[1]!.slice();
    pmt[pmt.length - 3]! ^= 0xff;
    list[1] = pmt;
    const file = concat(...list);
    const run = demux(file.subarray(0, file.length - 50));
    expect(run.errors.map((e) => e.code)).toEqual(["ERR_PSI_CRC", "ERR_TS_TRUNCATED"]);
    expect(run.es.length).toBe(0);
  });
});
