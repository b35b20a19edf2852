/** @module SpilledPatternHeader: a version 3/4 pattern header gathered into a HeaderSpill while hashed, then decoded by reading its table back forward, so a receiver holds none of it (issue 14). */
import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { EncodedRowCuts } from "./encoded-row-scan.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { PATTERN_DIGEST_BYTES, PATTERN_FIXED_BYTES } from "./pattern-header.ts";
import { type PatternHeaderV3, readPatternHeadV3, walkPatternTableV3 } from "./pattern-header-v3.ts";
import { PatternRangeTable, RANGE_BLOCK_BYTES } from "./pattern-range-table.ts";
import type { EncodedRuns } from "./run-window.ts";
import { SpilledVarintReader } from "./spilled-varint-reader.ts";

/**
 * Takes a version 3/4 header's bytes as they arrive (push(), chunks of any size) into `spill`, hashing all but the
 * digest on the way, and decodes it once whole (decode()): the same checks and errors as decodePatternHeaderV3(),
 * digest first, but the slices and runs stay in the spill, read back a block (slices, ≤ 1 MiB) or a window (runs,
 * 64 KiB) at a time as the walks pass them. Gathered whole, the header was 3.8 MB a GiB of TS (15.3 MB at 4.38 GB)
 * held until the body's end. The spill is the caller's to close.
 */
export class SpilledPatternHeader {
  readonly #spill: HeaderSpill;
  readonly #length: number;
  readonly #digestAt: number;
  readonly #hash = createHash("sha256");
  readonly #digest = new Uint8Array(PATTERN_DIGEST_BYTES);
  #fill = 0;

  /** `length`: the header's length as its first 20 bytes say (peekPatternHeaderLength() checked it). */
  constructor(spill: HeaderSpill, length: number) {
    this.#spill = spill;
    this.#length = length;
    this.#digestAt = length - PATTERN_DIGEST_BYTES;
  }

  /** Whether every byte of the header is in. */
  get complete(): boolean {
    return this.#fill === this.#length;
  }

  /** Takes the header's next bytes from the start of `chunk`, up to its end; returns how many it took. */
  push(chunk: Uint8Array): number {
    const take = Math.min(this.#length - this.#fill, chunk.length);
    if (take === 0) return 0;
    const part = chunk.subarray(0, take);
    this.#spill.write(part);
    const hashed = Math.min(take, Math.max(0, this.#digestAt - this.#fill));
    if (hashed > 0) this.#hash.update(part.subarray(0, hashed));
    if (hashed < take) this.#digest.set(part.subarray(hashed), this.#fill + hashed - this.#digestAt);
    this.#fill += take;
    return take;
  }

  /**
   * The header, its slices and runs read from the spill. Throws ERR_PATTERN_TRUNCATED before the last byte,
   * ERR_PATTERN_HEADER_DIGEST on a digest that does not match, then what decodePatternHeaderV3() throws; and
   * what the spill's read() throws.
   */
  decode(): PatternHeaderV3<EncodedRuns> {
    const digestAt = this.#digestAt;
    if (!this.complete)
      throw codecError(
        "ERR_PATTERN_TRUNCATED",
        `Cannot read pattern header: ${this.#fill} bytes are fewer than the header's ${this.#length}`,
        this.#fill,
      );
    if (!this.#hash.digest().equals(this.#digest))
      throw codecError(
        "ERR_PATTERN_HEADER_DIGEST",
        "Cannot read pattern header: the header digest does not match",
        digestAt,
      );
    const spill = this.#spill;
    const head = new Uint8Array(PATTERN_FIXED_BYTES);
    spill.read(0, head);
    const fixed = readPatternHeadV3(head, digestAt);
    const { count, directBodyLength } = fixed;
    // Where the slice rows are cut into blocks and the checkpoints, as scanEncodedRows() cuts rows in memory.
    const rows = new EncodedRowCuts(count, {
      blockBytes: RANGE_BLOCK_BYTES,
      checkpointRows: PatternRangeTable.STORED_CHECKPOINT_ROWS,
    });
    const table = walkPatternTableV3(new SpilledVarintReader(spill, PATTERN_FIXED_BYTES, digestAt), {
      count,
      digestAt,
      directBodyLength,
      onSlice: (rowStart, rowEnd, endBefore) =>
        rows.row(rowStart - PATTERN_FIXED_BYTES, rowEnd - PATTERN_FIXED_BYTES, endBefore),
    });
    // Block b is table bytes [bounds[b], bounds[b + 1]): header bytes from PATTERN_FIXED_BYTES + bounds[b].
    const bounds = count > 0 ? [0, ...rows.cuts, table.runsAt - PATTERN_FIXED_BYTES] : [0];
    const blockBytes = bounds.slice(1).map((end, b) => end - bounds[b]!);
    const starts = bounds.slice(0, -1).map((start) => PATTERN_FIXED_BYTES + start);
    const slices = PatternRangeTable.fromStored(
      {
        put: () => {
          throw new TypeError("Cannot add to a received pattern header's slices");
        },
        get: (index, into) => spill.read(starts[index]!, into),
      },
      { blockBytes, scan: { checkPos: rows.checkPos, checkEnd: rows.checkEnd, end: table.slicesEnd }, count },
    );
    return {
      plan: {
        scheme: fixed.scheme,
        slices,
        runCount: table.runCount,
        encryptedBytes: fixed.encryptedBytes,
        runs: { spill, from: table.runsFrom, to: digestAt, count: table.runCount },
      },
      salt: head.slice(20, 36),
      originalSha256: head.slice(36, 68),
      directBodyLength,
      headerLength: this.#length,
    };
  }
}
