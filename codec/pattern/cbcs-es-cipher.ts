/** @module Applies CENC-cbcs to a direct body streamed in chunks by walking a version 4 plan (slice spans in ES coordinates and unit runs): gathers whole blocks, hands them to the cipher, scatters them back. */
import { codecError } from "../codec-error.ts";
import { CBCS_CHAIN_START, CBCS_FIRST_PIECE, type CbcsEsPlan, CbcsEsWalk } from "./cbcs-es-walk.ts";
import type { CbcsBlockCipher } from "./cbcs-pattern-cipher.ts";
import { type HeldBytes, pushHoldingBlocks } from "./held-block-push.ts";
import { PatternBodyCursor } from "./pattern-body-cursor.ts";
import type { EncodedRuns } from "./run-window.ts";
import type { StoredRuns } from "./stored-runs.ts";

const BLOCK = 16;
const EMPTY = new Uint8Array(0);
/**
 * Blocks gathered per cipher call (128 KiB), and pieces taken from the walk at once. The cipher runs a call's
 * short chains in lock-step (crypto/cbcs-chain-encryptor.ts), one AES call per block position, so the more of a
 * read's chains one call holds, the fewer calls: a 4 MiB read of a 320×240 clip has ~17 k encrypted blocks in
 * ~1,000 chains of at most ~50 blocks. The scatter reads each block's place back from the pieces, so a batch
 * ends where the walk refills them. On mandelbrot CABAC looped to 32 MiB, 4096 blocks made ~2,370 AES calls
 * per send, 8192 ~1,420 and 16384 ~940, but at 16384 the 528 KiB of arrays came on fresh pages in every send
 * (~135 page faults against ~15, each ~15 µs on this machine) and the cipher cost no less.
 */
const BATCH_BLOCKS = 8192;

/** The works of the pending batch: each work's first body offset and the first of its pieces in the batch. */
interface Source {
  work: Uint8Array;
  workWords: DataView;
  start: number;
  first: number;
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
  readonly #pieces = new Float64Array(2 * BATCH_BLOCKS);
  readonly #flags = new Uint8Array(BATCH_BLOCKS);
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
  /**
   * The pending batch: blocks gathered into #scratch but not yet transformed, from the pieces [#sources[0].first,
   * #piece) of these works, and their chain restarts. A push transforms it before it returns; pushMany() once
   * for all its chunks, so one cipher call takes the chains of a whole read.
   */
  readonly #sources: Source[] = [];
  #gathered = 0;
  readonly #restarts: number[] = [];

  constructor(
    plan: Omit<CbcsEsPlan, "runs"> & {
      runs: Float64Array | StoredRuns | EncodedRuns;
      encryptedBytes: number;
    },
    bodyLength: number,
    cipher: CbcsBlockCipher,
  ) {
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
    return this.pushMany([chunk]);
  }

  /**
   * push() of consecutive body chunks (a read's direct pieces) at once: their blocks go to the cipher together,
   * so a picture's chains cut across the pieces are transformed in the same calls. Returns the body bytes now
   * final, in order.
   */
  pushMany(chunks: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const chunk of chunks) {
      this.#body.take(chunk.length);
      const final = pushHoldingBlocks(this.#hold, chunk, {
        lacking: () => this.#blockEnd() - (this.#committed + this.#hold.held.length),
        transform: (work) => this.#transform(work),
      });
      for (const f of final) out.push(f);
    }
    this.#flush();
    return out;
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

  /** Whether a block is waiting at #piece (refilling from the walk, after transforming the batch, when the pieces are used up). */
  #ready(): boolean {
    if (this.#piece < this.#count) return true;
    if (this.#done) return false;
    this.#flush();
    this.#count = this.#walk.fill(this.#pieces, this.#flags);
    this.#piece = 0;
    if (this.#count === 0) this.#done = true;
    return this.#count > 0;
  }

  /**
   * Gathers every whole block of `work` (body bytes from #committed) into the pending batch; returns how many
   * bytes are final once the batch is transformed (before the push returns).
   */
  #transform(work: Uint8Array): number {
    const start = this.#committed;
    const end = start + work.length;
    const pieces = this.#pieces;
    const flags = this.#flags;
    const scratch = this.#scratch;
    const scratchWords = this.#scratchWords;
    const workWords = new DataView(work.buffer, work.byteOffset, work.byteLength);
    let keep = work.length;
    // Batch state in locals: a method call per block (355 k in 60 MiB) cost more than its copy.
    let gathered = this.#gathered;
    const restarts = this.#restarts;
    let i = this.#piece;
    let count = this.#count;
    let source = false;
    for (;;) {
      if (i >= count) {
        // #ready() transforms the batch first: the walk is about to overwrite the pieces the scatter reads.
        this.#gathered = gathered;
        this.#piece = i;
        const ready = this.#ready();
        gathered = this.#gathered;
        if (!ready) break;
        source = false;
        i = 0;
        count = this.#count;
      }
      const first = pieces[2 * i]!;
      if (first >= end) break;
      if (!source) {
        this.#sources.push({ work, workWords, start, first: i });
        source = true;
      }
      const length = pieces[2 * i + 1]!;
      if (length === BLOCK) {
        // The usual block: one piece. Held from its first byte when the chunk ends inside it.
        if (first + BLOCK > end) {
          keep = first - start;
          break;
        }
        if ((flags[i]! & CBCS_CHAIN_START) !== 0) restarts.push(gathered / BLOCK);
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
        if ((flags[i]! & CBCS_CHAIN_START) !== 0) restarts.push(gathered / BLOCK);
        for (; i < j; i++) {
          const f = (pieces[2 * i]! - start) | 0;
          const n = pieces[2 * i + 1]! | 0;
          for (let k = 0; k < n; k++) scratch[gathered + k] = work[f + k]!;
          gathered += n;
        }
      }
      if (gathered === scratch.length) {
        this.#gathered = gathered;
        this.#piece = i;
        this.#flush();
        gathered = 0;
        source = false;
      }
    }
    this.#piece = i;
    this.#gathered = gathered;
    this.#committed = start + keep;
    return keep;
  }

  /** Transforms the pending batch (pieces up to #piece) and scatters it back into its works. */
  #flush(): void {
    const gathered = this.#gathered;
    const sources = this.#sources;
    if (gathered > 0) {
      const scratch = this.#scratch;
      const scratchWords = this.#scratchWords;
      const pieces = this.#pieces;
      this.#cipher(scratch.subarray(0, gathered), this.#restarts);
      let at = 0;
      for (let s = 0; s < sources.length; s++) {
        const { work, workWords, start, first } = sources[s]!;
        const to = s + 1 < sources.length ? sources[s + 1]!.first : this.#piece;
        for (let i = first; i < to; i++) {
          const f = (pieces[2 * i]! - start) | 0;
          const n = pieces[2 * i + 1]! | 0;
          if (n === BLOCK) wordCopy16(scratchWords, at, workWords, f);
          else for (let k = 0; k < n; k++) work[f + k] = scratch[at + k]!;
          at += n;
        }
      }
      this.#walkedBytes += gathered;
    }
    this.#gathered = 0;
    // Emptied, not replaced: #transform() holds the restarts array in a local across a flush.
    sources.length = 0;
    this.#restarts.length = 0;
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
