/** @module Tests of ridingPatternPlanners() with a block store: a TS's version 3 slice table goes to the store, and what is sent and received is what the plan in memory gives. */
import { describe, expect, test } from "bun:test";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  concat,
  packetize,
  patSection,
  pes2,
  pmtSection,
} from "../../test/support/synthetic-container-streams.ts";
import {
  gopHeader,
  pictureCodingExtension,
  pictureHeader,
  SEQUENCE_END,
  sequenceExtension,
  sequenceHeader,
  slice,
} from "../../test/support/synthetic-video-stream.ts";
import { indexRecording } from "../container/index-recording.ts";
import { splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { PATTERN_VERSION_ES } from "./pattern-header.ts";
import type { PatternPlan } from "./pattern-planner.ts";
import { ridingPatternPlanners } from "./riding-pattern-planners.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const SALT = new Uint8Array(16).map((_, i) => 40 + i);
const VIDEO_PID = 0x100;
const PMT_PID = 0x1000;
/** MPEG-2 slice start codes 0x01-0xAF: the most slices one picture can have. */
const SLICES_PER_PICTURE = 0xaf;

/**
 * An MPEG-2 TS of `pictures` pictures (an I-picture then P-pictures, GOPs of 12), each of 175 one-byte slices: a
 * slice row is two varint bytes, so ~3,000 P-pictures fill the slice table's first 1 MiB block and begin a second.
 */
function manySliceTs(pictures: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const slices = Array.from({ length: SLICES_PER_PICTURE }, (_, s) => slice(s + 1, 1));
  for (let p = 0; p < pictures; p++) {
    if (p % 12 === 0) {
      parts.push(sequenceHeader({ horizontalSize: 352, verticalSize: 288 }), sequenceExtension());
      parts.push(gopHeader({ closedGop: true, brokenLink: false }));
    }
    parts.push(pictureHeader({ codingType: p % 12 === 0 ? 1 : 2, temporalReference: p % 12 }));
    parts.push(pictureCodingExtension({ pictureStructure: 3 }), ...slices);
  }
  parts.push(SEQUENCE_END);
  const es = concat(...parts);
  return concat(
    ...packetize(
      0,
      patSection([
        { programNumber: 0, pid: 0x10 },
        { programNumber: 1, pid: PMT_PID },
      ]),
      0,
      true,
    ),
    ...packetize(PMT_PID, pmtSection(1, VIDEO_PID, [{ streamType: 0x02, pid: VIDEO_PID }]), 0, true),
    ...packetize(VIDEO_PID, pes2(0xe0, es, { length0: true, pts: 1 }), 0),
  );
}

/** A store in memory that keeps copies of what it is given; `failGet` makes every read back throw. */
function memoryStore(o: { failGet?: boolean } = {}): RangeBlockStore & { blocks: Map<number, Uint8Array> } {
  const blocks = new Map<number, Uint8Array>();
  return {
    blocks,
    put: (index, bytes) => {
      blocks.set(index, bytes.slice());
    },
    get: (index, into) => {
      const b = blocks.get(index);
      if (o.failGet || b === undefined || b.length !== into.length)
        throw new RangeError(`Cannot read pattern plan block ${index}: the spill file ends early`);
      into.set(b);
    },
  };
}

function plan(bytes: Uint8Array, stores: RangeBlockStore[] | undefined): PatternPlan {
  const riding = ridingPatternPlanners(
    stores === undefined
      ? {}
      : {
          store: () => {
            const s = memoryStore();
            stores.push(s);
            return s;
          },
        },
  );
  for (const c of new SeededRandom(5).chunks(bytes)) riding.indexer.push(c);
  return riding.finish(indexRecording(bytes));
}

/** The direct part as sent under `p`, in random chunks. */
async function sent(direct: Uint8Array, p: PatternPlan): Promise<Uint8Array> {
  const enc = new PatternDirectEncoder(p, SALT, await makePatternKeystream(SESSION_KEY, SALT));
  const out: Uint8Array[] = [];
  for (const c of new SeededRandom(6).chunks(direct.slice())) out.push(...(await enc.push(c)));
  enc.finish();
  return Buffer.concat(out);
}

describe("ridingPatternPlanners() with a block store", () => {
  const ts = manySliceTs(3_300);
  const index = indexRecording(ts);
  const direct = splitBytes(ts, index.protectedRanges, index.container).direct;

  test("a TS's version 3 slice table goes to the store and the wire is the in-memory plan's", async () => {
    const stores: Array<RangeBlockStore & { blocks: Map<number, Uint8Array> }> = [];
    const stored = plan(ts, stores as RangeBlockStore[]);
    const plain = plan(ts, undefined);
    expect(stored.es).toBeDefined();
    expect(stored.es!.slices.count).toBeGreaterThan(500_000);
    // The slice table has handed its full blocks over: it holds only the one being written.
    expect(stores.some((s) => s.blocks.size > 0)).toBe(true);
    expect(stored.es!.slices.count).toBe(plain.es!.slices.count);
    expect(stored.encryptedBytes).toBe(plain.encryptedBytes);
    const a = await sent(direct, stored);
    const b = await sent(direct, plain);
    expect(a[peekSplitHeaderLength(direct)! + 8]).toBe(PATTERN_VERSION_ES);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // And the receiver gives the plain direct part back, byte for byte.
    const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt));
    const back: Uint8Array[] = [];
    for (const c of new SeededRandom(7).chunks(a)) back.push(...(await dec.push(c)));
    dec.finish();
    expect(Buffer.concat(back).equals(Buffer.from(direct))).toBe(true);
  });

  test("PatternDirectEncoder() rejects a plan whose store cannot give its blocks back", async () => {
    const stores: Array<RangeBlockStore & { blocks: Map<number, Uint8Array> }> = [];
    const p = plan(ts, stores as RangeBlockStore[]);
    // The spill files lost their blocks (a truncated temp file): reading the plan throws, it does not hang.
    for (const s of stores) s.blocks.clear();
    await expect(sent(direct, p)).rejects.toThrow(/spill file ends early/);
  });
});
