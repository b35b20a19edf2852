/** @module Holds TsDemuxer's WebAssembly packet walk to its JavaScript demux: same sink calls on clean and damaged streams. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  concat,
  packetize,
  patSection,
  pes2,
  pmtSection,
  tsPacket,
} from "../../test/support/synthetic-container-streams.ts";
import { TS_MUTATIONS, type TsMutation } from "../../test/support/ts-mutations.ts";
import { KERNEL_READ_AREA_BYTES, kernelReadBuffer, VIDEO_BLOCK_BYTES } from "../kernel-memory.ts";
import type { VideoFormat } from "../recording-index.ts";
import type { DemuxSink } from "./demux-sink.ts";
import { TsDemuxer } from "./ts-demuxer.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "./ts-packet.ts";
import { tsPacketKernel } from "./ts-packet-kernel.ts";

type PacketLength = typeof TS_PACKET_LENGTH | typeof M2TS_PACKET_LENGTH;

/** Everything a sink is told, in order of kind: video pieces (with their bytes), errors, formats. */
interface Calls {
  pieces: string[];
  es: Uint8Array;
  errors: string[];
  formats: VideoFormat[];
}

function recorder(): { sink: DemuxSink; calls: () => Calls } {
  const pieces: string[] = [];
  const parts: Uint8Array[] = [];
  const errors: string[] = [];
  const formats: VideoFormat[] = [];
  const sink: DemuxSink = {
    video: (bytes, start, end, fileOffset, unitOffset, unitLength) => {
      pieces.push(`${fileOffset}/${unitOffset}/${unitLength}/${end - start}`);
      parts.push(bytes.slice(start, end));
    },
    error: (offset, code, message) => errors.push(`${offset} ${code} ${message}`),
    format: (f) => formats.push(f),
  };
  return { sink, calls: () => ({ pieces, es: concat(...parts), errors, formats }) };
}

/** Pushes `file` cut at `cuts` (chunk lengths, repeated); `resident` reads each chunk into the kernels' read area. */
function demux(
  file: Uint8Array,
  packetLength: PacketLength,
  kernel: "auto" | "off",
  cuts: number[] = [file.length],
  resident = false,
): Calls {
  const { sink, calls } = recorder();
  const d = new TsDemuxer(sink, packetLength, { kernel });
  const area = kernelReadBuffer();
  for (let at = 0, i = 0; at < file.length; i++) {
    const n = Math.max(1, Math.min(cuts[i % cuts.length] as number, file.length - at));
    if (resident && area && n <= KERNEL_READ_AREA_BYTES) {
      area.set(file.subarray(at, at + n));
      d.push(area.subarray(0, n));
    } else {
      d.push(file.subarray(at, at + n));
    }
    at += n;
  }
  d.end();
  return calls();
}

/** Counts the packets the kernel walked while `fn` ran. */
function walkedPackets(fn: () => void): number {
  const kernel = tsPacketKernel();
  if (!kernel) return 0;
  const walk = kernel.walk;
  let walked = 0;
  kernel.walk = (chunk, start, end, stride, sync, base) => {
    const stop = walk.call(kernel, chunk, start, end, stride, sync, base);
    walked += (stop - start) / stride;
    return stop;
  };
  try {
    fn();
  } finally {
    kernel.walk = walk;
  }
  return walked;
}

const FIXTURES: [string, PacketLength][] = [
  ["ts-mpeg2.ts", TS_PACKET_LENGTH],
  ["ts-h264.ts", TS_PACKET_LENGTH],
  ["m2ts-mpeg2.m2ts", M2TS_PACKET_LENGTH],
];

async function fixture(name: string): Promise<Uint8Array> {
  return new Uint8Array(
    await Bun.file(join(import.meta.dir, "../../testdata/containers", name)).arrayBuffer(),
  );
}

const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;
const PMT_PID = 0x1000;

function tables(cc = 0): Uint8Array[] {
  return [
    ...packetize(0, patSection([{ programNumber: 1, pid: PMT_PID }]), cc, true),
    ...packetize(
      PMT_PID,
      pmtSection(1, VIDEO_PID, [
        { streamType: 0x02, pid: VIDEO_PID },
        { streamType: 0x03, pid: AUDIO_PID },
      ]),
      cc,
      true,
    ),
  ];
}

function videoBytes(rnd: SeededRandom, n: number): Uint8Array {
  const b = rnd.bytes(n);
  b.set([0, 0, 1, 0xb3], 0);
  return b;
}

/** PAT, PMT, then PES after PES of the given payload lengths with audio and repeated tables between. */
function stream(rnd: SeededRandom, lengths: number[], pes = pes2): Uint8Array {
  const packets: Uint8Array[] = [...tables()];
  let cc = 0;
  let audioCc = 0;
  lengths.forEach((n, i) => {
    const video = packetize(VIDEO_PID, pes(0xe0, videoBytes(rnd, n), { length0: true, pts: i }), cc);
    cc = (cc + video.length) & 15;
    for (const [k, packet] of video.entries()) {
      packets.push(packet);
      if (k % 40 === 39) packets.push(tsPacket(AUDIO_PID, rnd.bytes(184), { cc: audioCc++ & 15 }));
    }
    packets.push(...tables((i + 1) & 15));
  });
  return concat(...packets);
}

describe("TsDemuxer with the WebAssembly packet walk", () => {
  test("tsPacketKernel() is available in this runtime", () => {
    expect(tsPacketKernel()).not.toBeNull();
  });

  for (const [name, size] of FIXTURES) {
    test(`TsDemuxer tells the sink the same with and without the kernel on ${name}, walking nearly every packet`, async () => {
      const file = await fixture(name);
      const want = demux(file, size, "off");
      expect(want.pieces.length).toBeGreaterThan(100);
      let got: Calls | undefined;
      const walked = walkedPackets(() => {
        got = demux(file, size, "auto");
      });
      expect(got).toEqual(want);
      // Left to JavaScript: the first PAT and PMT and the first PES start; their repeats are walked.
      expect(walked / (file.length / size)).toBeGreaterThan(0.98);
      const rnd = new SeededRandom(name.length);
      for (let round = 0; round < 20; round++) {
        const cuts = Array.from({ length: 7 }, () => 1 + rnd.below(rnd.below(2) ? 40_000 : 600));
        expect(demux(file, size, "auto", cuts, round % 2 === 0)).toEqual(want);
      }
    });
  }

  test("TsDemuxer hands on a block each time the video block fills within one push", () => {
    const rnd = new SeededRandom(11);
    const file = stream(rnd, [400_000, 5, 300_000, 184 - 14, 4]);
    let blocks = 0;
    const { sink, calls } = recorder();
    const d = new TsDemuxer({
      ...sink,
      videoBlock: (es) => {
        blocks++;
        expect(es.length).toBeLessThanOrEqual(VIDEO_BLOCK_BYTES);
      },
    });
    d.push(file);
    d.end();
    expect(calls().pieces).toEqual([]);
    expect(blocks).toBeGreaterThanOrEqual(3);
    expect(demux(file, TS_PACKET_LENGTH, "auto")).toEqual(demux(file, TS_PACKET_LENGTH, "off"));
  });

  test("TsDemuxer takes PES headers of every shape the same way with and without the kernel", () => {
    const rnd = new SeededRandom(5);
    // pes2 with time stamps, without, unbounded and bounded lengths; then headers the walk must leave alone.
    const shapes: Uint8Array[] = [
      stream(rnd, [1000, 2000, 10, 184 - 14]),
      stream(rnd, [500, 700], (id, data) => pes2(id, data, {})),
      stream(rnd, [500, 700], (id, data, o) => pes2(id, data, { ...o, extraHeader: 30 })),
      stream(rnd, [500, 700], (id, data, o) => pes2(id, data, { ...o, length0: false })),
    ];
    // PTS and 5 more header bytes (PES_header_data_length 10): room for a DTS once PTS_DTS_flags say '11'.
    const base = stream(rnd, [900, 900, 900], (id, data, o) => pes2(id, data, { ...o, extraHeader: 5 }));
    // The second PES start: the first comes while the video PID has no PES yet, which JavaScript reads.
    const secondVideoStart = (b: Uint8Array) => {
      let seen = 0;
      for (let p = 0; p < b.length; p += TS_PACKET_LENGTH) {
        const pid = ((b[p + 1]! & 0x1f) << 8) | b[p + 2]!;
        if (pid === VIDEO_PID && b[p + 1]! & 0x40 && ++seen === 2) return p + 4;
      }
      throw new Error("no second video PES start");
    };
    // Edits of that PES header ([byte, value] pairs): PTS and DTS; PTS_DTS_flags '01'; stamps longer than the
    // header (PTS alone, PTS and DTS); MPEG-1 syntax; a non-video stream_id; PES_packet_length one short of the
    // header, and just long enough; a header longer than the packet; no start code prefix.
    const edits: [number, number][][] = [
      [[7, 0xc0]],
      [[7, 0x40]],
      [[8, 0]],
      [[8, 4]],
      [
        [7, 0xc0],
        [8, 7],
      ],
      [[6, 0x0f]],
      [[3, 0xc0]],
      [
        [4, 0],
        [5, 12],
      ],
      [
        [4, 0],
        [5, 13],
      ],
      [[8, 200]],
      [[2, 0]],
    ];
    for (const edit of edits) {
      const b = base.slice();
      const h = secondVideoStart(b);
      for (const [at, value] of edit) b[h + at] = value;
      shapes.push(b);
    }
    for (const file of shapes) {
      const want = demux(file, TS_PACKET_LENGTH, "off");
      expect(demux(file, TS_PACKET_LENGTH, "auto")).toEqual(want);
      expect(demux(file, TS_PACKET_LENGTH, "auto", [3 * TS_PACKET_LENGTH + 5, 9000], true)).toEqual(want);
    }
  });

  test("TsDemuxer gives the same calls with and without the kernel on 1,500 damaged streams", async () => {
    const rnd = new SeededRandom(20261122);
    const sources = await Promise.all(
      FIXTURES.map(async ([name, size]) => [await fixture(name), size] as const),
    );
    sources.push([stream(rnd, [3000, 9000, 200, 40_000, 184 - 14, 7000]), TS_PACKET_LENGTH]);
    const names = Object.keys(TS_MUTATIONS);
    for (let run = 0; run < 1500; run++) {
      const [source, size] = sources[run % sources.length]!;
      const from = rnd.below(3) === 0 ? 0 : size * rnd.below(source.length / size);
      let file = source.subarray(from, from + size * (50 + rnd.below(400)));
      const applied: string[] = [];
      for (let i = 0, n = 1 + rnd.below(3); i < n; i++) {
        const name = names[rnd.below(names.length)] as string;
        applied.push(name);
        file = (TS_MUTATIONS[name] as TsMutation)(file, size, rnd);
      }
      const cuts = [1 + rnd.below(rnd.below(2) ? 30_000 : 500), 1 + rnd.below(5000)];
      const want = demux(file, size, "off", cuts);
      const got = demux(file, size, "auto", cuts, rnd.below(2) === 0);
      if (!Bun.deepEquals(got, want)) throw new Error(`run ${run} (${applied.join(", ")}) differs`);
    }
  });

  test("TsDemuxer walks PAT/PMT repeats only while they equal the last one read, for more programs than slots", () => {
    const rnd = new SeededRandom(21);
    const programs = Array.from({ length: 20 }, (_, i) => ({ programNumber: i + 1, pid: 0x1000 + i }));
    const pmts = (versionNumber: number, cc: number) =>
      programs.flatMap((p, i) =>
        packetize(
          p.pid,
          pmtSection(p.programNumber, VIDEO_PID, [
            { streamType: i === 3 ? 0x02 : 0x03, pid: i === 3 ? VIDEO_PID : 0x200 + i },
          ]),
          cc,
          true,
        ).map((packet) => {
          // version_number, 5 bytes into the section after the adaptation field's stuffing and the pointer_field;
          // the CRC_32 is left as it was, so a changed version is also a damaged section
          const version = 4 + 1 + (packet[4] as number) + 1 + 5;
          packet[version] = (packet[version] as number) | (versionNumber << 1);
          return packet;
        }),
      );
    const parts: Uint8Array[] = [];
    let videoCc = 0;
    for (let round = 0; round < 12; round++) {
      parts.push(...packetize(0, patSection(programs), round, true));
      parts.push(...pmts(round === 7 ? 1 : 0, round));
      const video = packetize(
        VIDEO_PID,
        pes2(0xe0, videoBytes(rnd, 900), { length0: true, pts: round }),
        videoCc,
      );
      videoCc = (videoCc + video.length) & 15;
      parts.push(...video);
    }
    const file = concat(...parts);
    const want = demux(file, TS_PACKET_LENGTH, "off");
    // Every PMT of the changed round is read (and found damaged), slotted PID or not.
    expect(want.errors.filter((e) => e.includes("ERR_PSI_CRC")).length).toBe(programs.length);
    let got: Calls | undefined;
    const walked = walkedPackets(() => {
      got = demux(file, TS_PACKET_LENGTH, "auto");
    });
    expect(got).toEqual(want);
    // Left to JavaScript: the first round, the changed round and the one after it, and every packet of the four
    // PMT PIDs beyond the 16 table slots: about a third of this file.
    expect(walked).toBeGreaterThan((file.length / TS_PACKET_LENGTH) * 0.6);
    expect(demux(file, TS_PACKET_LENGTH, "auto", [1000, 7 * TS_PACKET_LENGTH], true)).toEqual(want);
  });

  test("TsDemuxer does not take a packet of zero bytes at the start of a walk for video", () => {
    // The walk's shortcut compares a packet's header with the one the last video packet predicts; before any,
    // there is no prediction, and four zero bytes must not pass for one.
    const rnd = new SeededRandom(9);
    const head = stream(rnd, [2000]);
    const tail = stream(rnd, [3000]).subarray(3 * TS_PACKET_LENGTH);
    const file = concat(head, new Uint8Array(2 * TS_PACKET_LENGTH), tail);
    const want = demux(file, TS_PACKET_LENGTH, "off");
    expect(want.errors.some((e) => e.includes("ERR_TS_SYNC"))).toBe(true);
    expect(demux(file, TS_PACKET_LENGTH, "auto", [head.length, file.length])).toEqual(want);
    expect(demux(file, TS_PACKET_LENGTH, "auto", [head.length, file.length], true)).toEqual(want);
  });

  test("TsDemuxers that take turns pushing keep their own PID state", async () => {
    const a = await fixture("ts-mpeg2.ts");
    const b = stream(new SeededRandom(3), [5000, 60_000, 300]);
    const ra = recorder();
    const rb = recorder();
    const da = new TsDemuxer(ra.sink);
    const db = new TsDemuxer(rb.sink);
    for (let at = 0; at < Math.max(a.length, b.length); at += 10_000) {
      da.push(a.subarray(at, at + 10_000));
      db.push(b.subarray(at, at + 10_000));
    }
    da.end();
    db.end();
    expect(ra.calls()).toEqual(demux(a, TS_PACKET_LENGTH, "off"));
    expect(rb.calls()).toEqual(demux(b, TS_PACKET_LENGTH, "off"));
  });

  test("a TsDemuxer pushed from inside another's sink demuxes without the busy kernel", async () => {
    const outer = await fixture("ts-mpeg2.ts");
    const inner = stream(new SeededRandom(4), [20_000, 700]);
    const ro = recorder();
    const ri = recorder();
    const innerDemuxer = new TsDemuxer(ri.sink);
    let pushed = false;
    const d = new TsDemuxer({
      ...ro.sink,
      video: (...args) => {
        ro.sink.video(...args);
        if (!pushed) {
          pushed = true;
          expect(tsPacketKernel()?.busy).toBe(true);
          innerDemuxer.push(inner);
          innerDemuxer.end();
        }
      },
    });
    d.push(outer);
    d.end();
    expect(pushed).toBe(true);
    expect(ro.calls()).toEqual(demux(outer, TS_PACKET_LENGTH, "off"));
    expect(ri.calls()).toEqual(demux(inner, TS_PACKET_LENGTH, "off"));
    expect(tsPacketKernel()?.busy).toBe(false);
  });

  test("a sink that throws leaves the kernel free", async () => {
    const file = await fixture("ts-mpeg2.ts");
    const d = new TsDemuxer({
      video: () => {
        throw new RangeError("sink failed");
      },
      error: () => {},
      format: () => {},
    });
    expect(() => d.push(file)).toThrow(RangeError);
    expect(tsPacketKernel()?.busy).toBe(false);
    expect(demux(file, TS_PACKET_LENGTH, "auto")).toEqual(demux(file, TS_PACKET_LENGTH, "off"));
  });
});
