/** @module Tests for StartCodeScanner: split positions, zero stuffing, slice collapsing, random chunking. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { startCodeKernel } from "./start-code-kernel.ts";
import { StartCodeScanner } from "./start-code-scanner.ts";

type Hit = [code: number, offset: number];

/** The obvious byte-by-byte definition the scanner must agree with. */
function referenceScan(b: Uint8Array): Hit[] {
  const hits: Hit[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) hits.push([b[i + 3] as number, i]);
  }
  return hits;
}

const b = (...xs: number[]) => new Uint8Array(xs);

test("startCodeKernel() is available in this runtime (WebAssembly with 128-bit SIMD)", () => {
  // Without it every "kernel" case below would quietly test the JavaScript search twice.
  expect(startCodeKernel()).not.toBeNull();
});

// Every case runs twice: searched in JavaScript only, and by the WebAssembly kernel for every chunk however
// small (the default hands it only chunks of 2 KiB and more).
for (const kernel of ["off", "always"] as const) {
  function scan(chunks: Uint8Array[], collapseSlices = false): { hits: Hit[]; scanner: StartCodeScanner } {
    const hits: Hit[] = [];
    const scanner = new StartCodeScanner(
      (code, offset, chunk, codeIndex) => {
        expect(chunk[codeIndex]).toBe(code); // the code byte is where the handler is told it is
        hits.push([code, offset]);
      },
      { collapseSlices, kernel },
    );
    for (const c of chunks) scanner.push(c);
    return { hits, scanner };
  }

  describe(`StartCodeScanner (kernel ${kernel})`, () => {
    const cases: [string, Uint8Array, Hit[]][] = [
      ["no start code", b(1, 2, 3, 0, 0, 2, 0, 1, 1), []],
      ["a start code at offset 0", b(0, 0, 1, 0xb3, 9), [[0xb3, 0]]],
      ["zero stuffing before a start code", b(7, 0, 0, 0, 0, 0, 1, 0xb8), [[0xb8, 4]]],
      [
        "back-to-back start codes",
        b(0, 0, 1, 0xb5, 0, 0, 1, 0x01),
        [
          [0xb5, 0],
          [0x01, 4],
        ],
      ],
      [
        "a code byte that opens the next prefix",
        b(0, 0, 1, 0, 0, 1, 0xb3),
        [
          [0x00, 0],
          [0xb3, 3],
        ],
      ],
      ["a prefix without its code byte at the end", b(5, 0, 0, 1), []],
      ["00 01 and 00 00 02 (not prefixes)", b(0, 1, 0xb3, 0, 0, 2, 0xb3), []],
    ];
    for (const [name, bytes, expected] of cases) {
      test(`StartCodeScanner finds ${name}`, () => {
        expect(referenceScan(bytes)).toEqual(expected);
        expect(scan([bytes]).hits).toEqual(expected);
      });
    }

    // Start codes at every alignment, with stuffing, a code byte of 00 and slices: small enough for all splits.
    const mixed = b(
      9,
      0,
      0,
      1,
      0xb3,
      1,
      2,
      0,
      0,
      0,
      1,
      0xb5,
      0,
      0,
      1,
      0,
      0,
      1,
      0x01,
      7,
      0,
      0,
      1,
      0x02,
      0,
      1,
      0,
      0,
      1,
    );
    const expected = referenceScan(mixed);

    test("StartCodeScanner finds the same start codes at every single split position", () => {
      for (let s = 0; s <= mixed.length; s++) {
        expect(scan([mixed.subarray(0, s), mixed.subarray(s)]).hits).toEqual(expected);
      }
    });

    test("StartCodeScanner finds the same start codes at every pair of split positions", () => {
      for (let s = 0; s <= mixed.length; s++) {
        for (let t = s; t <= mixed.length; t++) {
          const chunks = [mixed.subarray(0, s), mixed.subarray(s, t), mixed.subarray(t)];
          expect(scan(chunks).hits).toEqual(expected);
        }
      }
    });

    test("StartCodeScanner finds start codes fed one byte at a time", () => {
      const ones = Array.from(mixed, (x) => b(x));
      expect(scan(ones).hits).toEqual(expected);
    });

    test("StartCodeScanner reports absolute offsets and a trailing prefix without code byte", () => {
      const { scanner } = scan([mixed]);
      expect(scanner.bytesSeen).toBe(mixed.length);
      expect(scanner.partialStartCodeOffset).toBe(mixed.length - 3);
      expect(scanner.scannedOffset).toBe(mixed.length - 3);
    });

    const tails: [string, Uint8Array, number][] = [
      ["no zero", b(1, 2, 3), 3],
      ["one zero", b(1, 2, 0), 2],
      ["two zeros", b(1, 0, 0), 1],
      ["three zeros", b(0, 0, 0), 1],
      ["00 00 01", b(7, 0, 0, 1), 1],
    ];
    for (const [name, bytes, scanned] of tails) {
      test(`StartCodeScanner.scannedOffset stops before a tail of ${name}`, () => {
        expect(scan([bytes]).scanner.scannedOffset).toBe(scanned);
      });
    }

    test("StartCodeScanner with collapseSlices reports only the first slice of each run", () => {
      const bytes = b(
        0,
        0,
        1,
        0,
        5,
        0,
        0,
        1,
        1,
        5,
        0,
        0,
        1,
        2,
        5,
        0,
        0,
        1,
        0xb2,
        0,
        0,
        1,
        3,
        0,
        0,
        1,
        0xaf,
        0,
        0,
        1,
      );
      const want: Hit[] = [
        [0x00, 0],
        [0x01, 5],
        [0xb2, 15],
        [0x03, 19],
      ];
      for (let s = 0; s <= bytes.length; s++) {
        expect(scan([bytes.subarray(0, s), bytes.subarray(s)], true).hits).toEqual(want);
      }
      expect(
        scan(
          Array.from(bytes, (x) => b(x)),
          true,
        ).hits,
      ).toEqual(want);
      // The trailing 00 00 01 gets its code byte in the next chunk; a non-slice code ends the run.
      expect(scan([bytes, b(0xb7)], true).hits).toEqual([...want, [0xb7, 27]]);
      expect(scan([bytes, b(0x04)], true).hits).toEqual(want);
    });

    test("StartCodeScanner agrees with the reference on random start-code-dense data in random chunks", () => {
      const rnd = new SeededRandom(0x5eed);
      for (let round = 0; round < 200; round++) {
        const bytes = new Uint8Array(1 + rnd.below(3000));
        for (let i = 0; i < bytes.length; i++) {
          const r = rnd.next();
          bytes[i] = r < 0.45 ? 0 : r < 0.7 ? 1 : rnd.below(256);
        }
        expect(scan(rnd.chunks(bytes)).hits).toEqual(referenceScan(bytes));
      }
    });
  });
}
