/** @module Applies CENC-cbcs to a direct body streamed in chunks by walking a version 4 plan (slice spans in ES coordinates and unit runs): gathers whole blocks, hands them to the cipher, scatters them back. */
import { codecError } from "../codec-error.ts";
import { CBCS_CHAIN_START, CBCS_FIRST_PIECE, type CbcsEsPlan, CbcsEsWalk } from "./cbcs-es-walk.ts";
import type { CbcsBlockCipher } from "./cbcs-pattern-cipher.ts";
import { type HeldBytes, pushHoldingBlocks } from "./held-block-push.ts";
import { PatternBodyCursor } from "./pattern-body-cursor.ts";
import { WINDOW_ROWS } from "./pattern-range-table.ts";

const BLOCK = 16;
const EMPTY = new Uint8Array(0);
/** Blocks gathered per cipher call (64 KiB): one OpenSSL update per chain in it, one ECB call for its tails. */
const BATCH_BLOCKS = 4096;

/** One batch of gathered blocks: the work they came from (its first body offset `start`), the first of their pieces, their chain restarts. */
interface Batch {
  work: Uint8Array;
  workWords: DataView;
  start: number;
  first: number;
  restarts: number[];
}

/**
 * Copies 16 bytes as four 32-bit words (byte order is irrelevant: read and written the same way). A block copy
 * per 16-byte block, 355 k of them each way on a 60 MiB H.264 TS: byte loops were a third of the cipher's CPU.
 */
function wordCopy16(src: DataView, from: number, dst: DataView, to: number): void {
  dst.setUint32(to, src.getUint32(from, true), true);
  dst.setUint32(to + 4, src.getUint32(from + 4, true), true);
  dst.setUint32(to + 8, src.getUint32(from + 8, true), true);
  dst.setUint32(to + 12, src.getUint32(from + 12, true), true);
}

/**
 * CbcsPatternCipher for a version 4 plan: the same blocks in the same chains (CbcsEsWalk), so the same
 * ciphertext, but no row per block: the blocks come from the walk as the body streams past. A block cut by a
 * chunk's end is held back (copied) from its first byte and finished with the next chunk; what push() returns
 * is the body in order, each byte once. Encrypts or decrypts, as the cipher does.
 */
export class CbcsEsCipher {
  readonly #walk: CbcsEsWalk;
  readonly #cipher: CbcsBlockCipher;
  readonly #body: PatternBodyCursor;
  readonly #encryptedBytes: number;
  /** Pieces from the walk ((body offset, length) pairs and a flag each): #count of them, #piece the next block's first. */
  readonly #pieces = new Float64Array(2 * WINDOW_ROWS);
  readonly #flags = new Uint8Array(WINDOW_ROWS);
  #count = 0;
  #piece = 0;
  #done = false;
  /** Body offset of the first byte not yet given out (the held bytes start here). */
  #committed = 0;
  readonly #hold: HeldBytes = { held: EMPTY };
  /** Bytes handed to the cipher so far: the header's encrypted bytes once the body is through. */
  #walkedBytes = 0;
  /**
   * Reused: the gathered blocks. Where each came from is read back from #pieces when they are scattered (a batch
   * is transformed before the walk refills them): two Int32Arrays of a piece per byte (512 KiB, fresh pages
   * in every send's plan phase) had kept the same offsets again.
   */
  readonly #scratch = new Uint8Array(BATCH_BLOCKS * BLOCK);
  /** The same bytes as 32-bit words: a whole block moves in four word copies (wordCopy16). */
  readonly #scratchWords = new DataView(this.#scratch.buffer);

  constructor(plan: CbcsEsPlan & { encryptedBytes: number }, bodyLength: number, cipher: CbcsBlockCipher) {
    this.#walk = new CbcsEsWalk(plan);
    this.#cipher = cipher;
    this.#body = new PatternBodyCursor(bodyLength);
    this.#encryptedBytes = plan.encryptedBytes;
  }

  /** Body bytes pushed so far. */
  get position(): number {
    return this.#body.position;
  }

  /**
   * Takes the next body bytes (transformed in place: pass a buffer you own) and returns the body bytes now
   * final, in order. Throws ERR_PATTERN_LENGTH past the body's end.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#body.take(chunk.length);
    return pushHoldingBlocks(this.#hold, chunk, {
      lacking: () => this.#blockEnd() - (this.#committed + this.#hold.held.length),
      transform: (work) => this.#transform(work),
    });
  }

  /** Body offset where the next block (the held one) ends. */
  #blockEnd(): number {
    if (!this.#ready()) return Number.POSITIVE_INFINITY;
    const pieces = this.#pieces;
    let i = this.#piece;
    let end = pieces[2 * i]! + pieces[2 * i + 1]!;
    for (i++; i < this.#count && (this.#flags[i]! & CBCS_FIRST_PIECE) === 0; i++)
      end = pieces[2 * i]! + pieces[2 * i + 1]!;
    return end;
  }

  /** Whether a block is waiting at #piece (refilling from the walk when the batch is used up). */
  #ready(): boolean {
    if (this.#piece < this.#count) return true;
    if (this.#done) return false;
    this.#count = this.#walk.fill(this.#pieces, this.#flags);
    this.#piece = 0;
    if (this.#count === 0) this.#done = true;
    return this.#count > 0;
  }

  /** Transforms every whole block of `work` (body bytes from #committed); returns how many bytes are final. */
  #transform(work: Uint8Array): number {
    const start = this.#committed;
    const end = start + work.length;
    const pieces = this.#pieces;
    const flags = this.#flags;
    const scratch = this.#scratch;
    const scratchWords = this.#scratchWords;
    const workWords = new DataView(work.buffer, work.byteOffset, work.byteLength);
    const batch: Batch = { work, workWords, start, first: this.#piece, restarts: [] };
    let keep = work.length;
    // Batch state in locals: a method call per block (355 k in 60 MiB) cost more than its copy.
    let gathered = 0;
    let i = this.#piece;
    let count = this.#count;
    for (;;) {
      if (i >= count) {
        // The walk is about to overwrite the pieces the scatter reads: transform what is gathered first.
        if (gathered > 0) this.#flush(batch, i, gathered);
        gathered = 0;
        this.#piece = i;
        if (!this.#ready()) break;
        i = 0;
        batch.first = 0;
        count = this.#count;
      }
      const first = pieces[2 * i]!;
      if (first >= end) break;
      const length = pieces[2 * i + 1]!;
      if (length === BLOCK) {
        // The usual block: one piece. Held from its first byte when the chunk ends inside it.
        if (first + BLOCK > end) {
          keep = first - start;
          break;
        }
        if ((flags[i]! & CBCS_CHAIN_START) !== 0) batch.restarts.push(gathered / BLOCK);
        wordCopy16(workWords, (first - start) | 0, scratchWords, gathered);
        gathered += BLOCK;
        i++;
      } else {
        // A block cut by a packet header: its last piece must be here too.
        let j = i + 1;
        while (j < count && (flags[j]! & CBCS_FIRST_PIECE) === 0) j++;
        if (pieces[2 * (j - 1)]! + pieces[2 * (j - 1) + 1]! > end) {
          keep = first - start;
          break;
        }
        if ((flags[i]! & CBCS_CHAIN_START) !== 0) batch.restarts.push(gathered / BLOCK);
        for (; i < j; i++) {
          const f = (pieces[2 * i]! - start) | 0;
          const n = pieces[2 * i + 1]! | 0;
          for (let k = 0; k < n; k++) scratch[gathered + k] = work[f + k]!;
          gathered += n;
        }
      }
      if (gathered === scratch.length) {
        this.#flush(batch, i, gathered);
        gathered = 0;
      }
    }
    this.#piece = i;
    if (gathered > 0) this.#flush(batch, i, gathered);
    this.#committed = start + keep;
    return keep;
  }

  /** Transforms the `gathered` bytes of pieces [batch.first, to) and scatters them back; starts the next batch at `to`. */
  #flush(batch: Batch, to: number, gathered: number): void {
    const { work, workWords, start } = batch;
    const scratch = this.#scratch;
    const scratchWords = this.#scratchWords;
    const pieces = this.#pieces;
    this.#cipher(scratch.subarray(0, gathered), batch.restarts);
    let at = 0;
    for (let i = batch.first; i < to; i++) {
      const f = (pieces[2 * i]! - start) | 0;
      const n = pieces[2 * i + 1]! | 0;
      if (n === BLOCK) wordCopy16(scratchWords, at, workWords, f);
      else for (let k = 0; k < n; k++) work[f + k] = scratch[at + k]!;
      at += n;
    }
    this.#walkedBytes += gathered;
    batch.first = to;
    batch.restarts = [];
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body passed, every block was whole and the plan's bytes all went through. */
  finish(): void {
    this.#body.finish(this.#hold.held.length);
    if (this.#ready() || this.#walkedBytes !== this.#encryptedBytes) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot finish pattern: ${this.#walkedBytes} bytes were encrypted, the plan says ${this.#encryptedBytes}`,
        this.#body.position,
      );
    }
  }
}
