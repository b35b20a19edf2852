/** @module Tests of the re-synchronising attacker: its Annex B tables parse every real slice, it finds true macroblock boundaries behind ciphertext, and it survives garbage. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { SeededRandom } from "../../../test/support/seeded-random.ts";
import { CONTENT, encodeArgs } from "../../leak.ts";
import { BitCursor, type PictureSyntax, parseMacroblock } from "./mpeg2-macroblock.ts";
import { ADDRESS_INCREMENT, buildVlc, codeOf, MACROBLOCK_ESCAPE } from "./mpeg2-vlc.ts";
import { findTail, parsesToEnd, pictureCodingExtension, resyncAttack } from "./resync-attack.ts";

const dir = await mkdtemp(join(tmpdir(), "pvrlink-attack-test-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A P/B slice of a clip: its data after the start code and the picture's macroblock syntax. */
interface Slice {
  data: Uint8Array;
  picture: PictureSyntax;
}

/** Every P/B slice of an ffmpeg-encoded 1 s clip of `source`, and the clip's width in macroblocks. */
async function slicesOf(name: string, source: string): Promise<{ slices: Slice[]; mbWidth: number }> {
  const path = join(dir, `${name}.m2v`);
  await $`ffmpeg ${encodeArgs(source, "mpeg2video", 1)} ${path}`.quiet();
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const buf = Buffer.from(bytes);
  const starts: number[] = [];
  for (
    let at = buf.indexOf(Buffer.from([0, 0, 1]));
    at >= 0;
    at = buf.indexOf(Buffer.from([0, 0, 1]), at + 1)
  )
    starts.push(at);
  const slices: Slice[] = [];
  let codingType = 0;
  let picture: PictureSyntax | undefined;
  let mbWidth = 0;
  for (let k = 0; k < starts.length; k++) {
    const at = starts[k]!;
    const code = bytes[at + 3]!;
    if (code === 0xb3) mbWidth = Math.ceil(((bytes[at + 4]! << 4) | (bytes[at + 5]! >> 4)) / 16);
    if (code === 0x00) codingType = (bytes[at + 5]! >> 3) & 7;
    if (code === 0xb5 && bytes[at + 4]! >> 4 === 8)
      picture = pictureCodingExtension(bytes, at + 4, codingType);
    if (code >= 0x01 && code <= 0xaf && codingType >= 2 && picture !== undefined)
      slices.push({ data: bytes.subarray(at + 4, starts[k + 1] ?? bytes.length), picture });
  }
  return { slices, mbWidth };
}

/** Bit position and column of every macroblock of a clear slice, parsed from its header (quantiser + extra bit). */
function macroblocks(s: Slice): Map<number, number> {
  const out = new Map<number, number>();
  const c = new BitCursor(s.data);
  c.pos = 6;
  let column = -1;
  for (;;) {
    const at = c.pos;
    if (c.pos >= s.data.length * 8 - 8 && c.peek(8) === 0) break;
    const mb = parseMacroblock(c, s.picture);
    if (mb.increment < 0) break;
    column += mb.increment;
    out.set(at, column);
  }
  return out;
}

const clips = await Promise.all(CONTENT.map((c) => slicesOf(c.name, c.source)));

describe("the attacker's macroblock parser (ISO/IEC 13818-2 Annex B)", () => {
  CONTENT.forEach((content, i) => {
    test(`parsesToEnd() accepts every clear P/B slice of ${content.name}`, () => {
      const { slices } = clips[i]!;
      expect(slices.length).toBeGreaterThan(100);
      expect(slices.filter((s) => !parsesToEnd(s.data, s.picture)).length).toBe(0);
    });
  });

  test("parsesToEnd() rejects slices cut short or with a flipped bit in most cases", () => {
    const { slices } = clips[0]!;
    const rng = new SeededRandom(5);
    let rejected = 0;
    for (const s of slices) {
      const damaged = s.data.slice();
      const bit = 8 + rng.below(damaged.length * 8 - 16);
      damaged[bit >> 3]! ^= 0x80 >> (bit & 7);
      if (!parsesToEnd(damaged, s.picture)) rejected++;
    }
    // A flipped bit inside a coefficient's sign or a motion residual changes no syntax: some survive.
    expect(rejected / slices.length).toBeGreaterThan(0.5);
  });
});

describe("findTail()", () => {
  CONTENT.forEach((content, i) => {
    test(`findTail() merges into the true macroblocks at their true columns behind 16 random bytes: ${content.name}`, () => {
      const { slices, mbWidth } = clips[i]!;
      const rng = new SeededRandom(i + 1);
      let tried = 0;
      let merged = 0;
      let recovered = 0;
      let total = 0;
      for (const s of slices) {
        if (s.data.length < 48) continue;
        const truth = macroblocks(s);
        const data = s.data.slice();
        for (let b = 0; b < 16; b++) data[b] = rng.below(256);
        tried++;
        total += [...truth.keys()].filter((at) => at >= 16 * 8).length;
        const tail = findTail(data, 16 * 8, { picture: s.picture, mbWidth });
        if (tail === undefined) continue;
        // The tail's chain, with columns summed back from the row's end as the attacker places them.
        const chain: Array<[number, number]> = [];
        const c = new BitCursor(data);
        c.pos = tail.start;
        while (c.pos < tail.end) chain.push([c.pos, parseMacroblock(c, s.picture).increment]);
        let column = mbWidth - 1;
        const placed = new Map<number, number>();
        for (let k = chain.length - 1; k >= 0; k--) {
          placed.set(chain[k]![0], column);
          column -= chain[k]![1];
        }
        // Once the chain meets a true macroblock it follows the true ones to the end, each at its true column.
        const first = chain.findIndex(([at]) => truth.has(at));
        if (first < 0) continue;
        const rest = chain.slice(first);
        if (rest.every(([at]) => truth.get(at) === placed.get(at))) {
          merged++;
          recovered += rest.length;
        }
      }
      expect(tried).toBeGreaterThan(50);
      // Most slices: the parse re-synchronises within a few macroblocks and the row's end anchors the columns.
      expect(merged / tried).toBeGreaterThan(0.8);
      expect(recovered / total).toBeGreaterThan(0.5);
    });
  });
});

describe("resyncAttack()", () => {
  test("resyncAttack() returns a stream without ciphertext unchanged", async () => {
    const path = join(dir, `${CONTENT[0]!.name}.m2v`);
    const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
    const r = resyncAttack(bytes, new Uint8Array(bytes.length));
    expect(r.attackedSlices).toBe(0);
    expect(Buffer.from(r.view).equals(Buffer.from(bytes))).toBe(true);
  });

  test("resyncAttack() never throws or hangs on random bytes with random ciphertext flags (seeded fuzz)", () => {
    const rng = new SeededRandom(9);
    for (let round = 0; round < 40; round++) {
      const bytes = new Uint8Array(2000 + rng.below(4000)).map(() =>
        rng.below(8) === 0 ? 0 : rng.below(256),
      );
      // Plant start codes: a sequence header, P picture, coding extension, slices.
      for (const [at, code] of [
        [0, 0xb3],
        [40, 0x00],
        [60, 0xb5],
        [90, 0x01],
        [900, 0x02],
      ] as const)
        bytes.set([0, 0, 1, code], at);
      bytes[45] = 0x10; // picture_coding_type 2
      const flags = new Uint8Array(bytes.length).map(() => (rng.below(10) === 0 ? 1 : 0));
      const r = resyncAttack(bytes, flags);
      expect(r.recoveredSlices).toBeLessThanOrEqual(r.attackedSlices);
    }
  });
});

describe("Annex B tables", () => {
  test("buildVlc() rejects codes that are not prefix-free", () => {
    expect(() =>
      buildVlc([
        ["1", 0],
        ["10", 1],
      ]),
    ).toThrow();
  });

  const increments = Array.from({ length: 33 }, (_, i) => i + 1);
  test("codeOf() and the table round-trip every macroblock_address_increment and the escape", () => {
    for (const v of [...increments, MACROBLOCK_ESCAPE]) {
      const [bits, length] = codeOf(ADDRESS_INCREMENT, v);
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, (bits << (32 - length)) >>> 0);
      expect(new BitCursor(bytes).vlc(ADDRESS_INCREMENT)).toBe(v);
    }
  });

  test("codeOf() rejects a value the table lacks", () => {
    expect(() => codeOf(ADDRESS_INCREMENT, 99)).toThrow(RangeError);
  });
});
