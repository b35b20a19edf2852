import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { concat, pack1, pack2, tsPacket } from "../../test/support/synthetic-container-streams.ts";
import type { ContainerKind } from "../recording-index.ts";
import { detectContainer, PROBE_BYTES } from "./detect-container.ts";

const dir = join(import.meta.dir, "../../testdata/containers");
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

describe("detectContainer()", () => {
  const fixtures: [string, ContainerKind][] = [
    ["ps-mpeg2.mpg", "ps"],
    ["ps-dvd.vob", "ps"],
    ["ps-mpeg1.mpg", "ps"],
    ["ts-mpeg2.ts", "ts"],
    ["ts-h264.ts", "ts"],
    ["m2ts-mpeg2.m2ts", "m2ts"],
    ["mp4-h264.mp4", "mp4"],
    ["mp4-h264-faststart.mp4", "mp4"],
  ];
  for (const [name, kind] of fixtures) {
    test(`detectContainer() calls ${name} ${kind}`, () =>
      expect(detectContainer(fixture(name), true)).toBe(kind));
    test(`detectContainer() calls ${name} ${kind} when it starts mid-stream`, () => {
      const f = fixture(name);
      if (kind === "mp4") return; // MP4 is recognised by its first box only
      expect(detectContainer(f.subarray(1001), true)).toBe(kind);
    });
  }
  const packets = concat(
    ...Array.from({ length: 8 }, (_, i) => tsPacket(0x100, new Uint8Array(184).fill(i))),
  );
  const cases: [string, Uint8Array, boolean, ContainerKind | undefined][] = [
    ["waits on a few undecided bytes", new Uint8Array([0, 0, 1]), false, undefined],
    ["takes a short file without markers as ES", new Uint8Array([0, 0, 1, 0xb3, 1, 2]), true, "es"],
    [
      "takes garbage as ES once the probe window is full",
      new Uint8Array(PROBE_BYTES).fill(0x11),
      false,
      "es",
    ],
    ["finds an MPEG-1 pack after garbage", concat(new Uint8Array(50).fill(3), pack1()), false, "ps"],
    ["finds an MPEG-2 pack", pack2(), false, "ps"],
    [
      "rejects a pack start code with broken markers",
      concat(new Uint8Array([0, 0, 1, 0xba, 0xc0]), new Uint8Array(20)),
      true,
      "es",
    ],
    ["finds eight 188-byte packets", packets, false, "ts"],
    ["waits for more TS packets before deciding", packets.subarray(0, 188 * 3), false, undefined],
    ["accepts three packets at the end of a short file", packets.subarray(0, 188 * 3), true, "ts"],
    [
      "finds 192-byte packets",
      concat(
        ...Array.from({ length: 8 }, () => concat(new Uint8Array(4), tsPacket(0x100, new Uint8Array(184)))),
      ),
      false,
      "m2ts",
    ],
    [
      "finds an ftyp box",
      new Uint8Array([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0, 0, 0, 0, 0, 0, 0, 0]),
      false,
      "mp4",
    ],
    ["rejects a box size below 8", new Uint8Array([0, 0, 0, 4, 0x66, 0x74, 0x79, 0x70]), true, "es"],
  ];
  for (const [name, bytes, final, want] of cases) {
    test(`detectContainer() ${name}`, () => expect(detectContainer(bytes, final)).toBe(want));
  }
});

describe("detectContainer() on random bytes", () => {
  // A full window asks every sync-byte candidate for all its probe packets: before, one near the window's end
  // passed on 2 sync bytes, and 0.65% of random 64 KiB buffers came out as TS or M2TS (~26 of these 4,000).
  test("detectContainer() takes no full window of random bytes for a container", () => {
    const found: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const kind = detectContainer(new Uint8Array(randomBytes(PROBE_BYTES)), true);
      if (kind !== "es") found.push(kind ?? "undefined");
    }
    expect(found).toEqual([]);
  });
});
