/** @module Rebuilds the original from its protected and direct parts as they stream in, verifying length and SHA-256. */
import { createHash, type Hash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import {
  checkSplitPair,
  decodeSplitHeader,
  peekSplitHeaderLength,
  SPLIT_FIXED_BYTES,
  type SplitHeader,
  type SplitPartKind,
} from "./split-format.ts";
import { splitOffsetsAt } from "./split-offsets.ts";

/** One part's reading state: its header being collected, then its body as a queue of pending views. */
class PartReader {
  header: SplitHeader | undefined;
  #headerBytes = new Uint8Array(SPLIT_FIXED_BYTES);
  #headerFilled = 0;
  #headerLength: number | undefined;
  #queue: Uint8Array[] = [];
  #head = 0;
  /** Body bytes received so far. */
  received = 0;
  /** Body bytes queued and not yet emitted. */
  queued = 0;

  /** `skipped(header)`: body bytes of this part the receiver already holds (a resumed merge); they never come. */
  constructor(
    readonly kind: SplitPartKind,
    readonly skipped: (header: SplitHeader) => number = () => 0,
  ) {}

  /** Takes a chunk of this part; returns the header once it is complete (the first time only). */
  push(chunk: Uint8Array): SplitHeader | undefined {
    if (this.header !== undefined) {
      this.#enqueue(chunk);
      return undefined;
    }
    // The header must be whole before its digest can be checked, so it alone is copied: only its own bytes,
    // into a buffer sized once its length is known, so a header arriving byte by byte costs O(length).
    let at = 0;
    for (;;) {
      const target = this.#headerLength ?? SPLIT_FIXED_BYTES;
      const n = Math.min(target - this.#headerFilled, chunk.length - at);
      this.#headerBytes.set(chunk.subarray(at, at + n), this.#headerFilled);
      this.#headerFilled += n;
      at += n;
      const seen = this.#headerBytes.subarray(0, this.#headerFilled);
      if (this.#headerLength === undefined) {
        // Checks magic and version on every byte seen, so garbage is refused before waiting for more.
        const length = peekSplitHeaderLength(seen);
        if (length === undefined) return undefined;
        this.#headerLength = length;
        const grown = new Uint8Array(length);
        grown.set(seen);
        this.#headerBytes = grown;
        continue;
      }
      if (this.#headerFilled < this.#headerLength) return undefined;
      break;
    }
    const header = decodeSplitHeader(this.#headerBytes);
    if (header.part !== this.kind) {
      throw codecError(
        "ERR_SPLIT_PAIR",
        `Cannot merge: the part given as ${this.kind} is the ${header.part} part`,
        9,
      );
    }
    this.header = header;
    this.received = this.skipped(header);
    this.#headerBytes = new Uint8Array(0);
    // The body's first bytes are a view into the pushed chunk, not a copy.
    this.#enqueue(chunk.subarray(at));
    return header;
  }

  #enqueue(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const header = this.header!;
    if (this.received + chunk.length > header.bodyLength) {
      throw codecError(
        "ERR_SPLIT_LENGTH",
        `Cannot merge: the ${this.kind} part runs past its ${header.bodyLength}-byte body`,
        header.headerLength + header.bodyLength,
      );
    }
    this.received += chunk.length;
    this.queued += chunk.length;
    this.#queue.push(chunk);
  }

  /** Removes up to n bytes from the front of the body queue, as views. */
  take(n: number, out: Uint8Array[]): number {
    let taken = 0;
    while (taken < n && this.#head < this.#queue.length) {
      const c = this.#queue[this.#head]!;
      const k = Math.min(c.length, n - taken);
      out.push(k === c.length ? c : c.subarray(0, k));
      if (k === c.length) {
        this.#queue[this.#head++] = EMPTY;
      } else {
        this.#queue[this.#head] = c.subarray(k);
      }
      taken += k;
    }
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.queued -= taken;
    return taken;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Merges the two parts of a split while both stream in: push chunks of either part in any interleaving and of
 * any size; each push returns the original's next bytes that have become available, in order (views into the
 * pushed chunks). `needs()` says which part the merger is waiting for: a reader that pulls from that part keeps
 * memory bounded by one chunk per part; a sender that pushes one part far ahead makes the merger hold that lead.
 * `finish()` verifies the length and the SHA-256 of what was emitted.
 */
export class SplitMerger {
  readonly #parts: { protected: PartReader; direct: PartReader };
  #header: SplitHeader | undefined;
  readonly #hash: Hash;
  readonly #resumeAt: number;
  #pos = 0;
  #next = 0;
  #finished = false;

  /**
   * `resume`: the receiver already holds the original's first `position` bytes, and `hash` has hashed them (a
   * resumed send, read back from disk): both parts then carry their header and only the body bytes past that
   * point (splitOffsetsAt), and finish() still checks the whole original's length and SHA-256.
   */
  constructor(resume?: { position: number; hash: Hash }) {
    this.#resumeAt = resume?.position ?? 0;
    this.#hash = resume?.hash ?? createHash("sha256");
    const skipped = (kind: SplitPartKind) => (h: SplitHeader) =>
      this.#resumeAt === 0 ? 0 : splitOffsetsAt(h.ranges, h.originalLength, this.#resumeAt)[kind];
    this.#parts = {
      protected: new PartReader("protected", skipped("protected")),
      direct: new PartReader("direct", skipped("direct")),
    };
  }

  /** The header of whichever part arrived first, once complete. */
  get header(): SplitHeader | undefined {
    return this.#header;
  }

  /** Bytes of the original emitted so far. */
  get position(): number {
    return this.#pos;
  }

  /** Takes a chunk of one part and returns the original's bytes it makes available. Throws ERR_SPLIT_*. */
  push(part: SplitPartKind, chunk: Uint8Array): Uint8Array[] {
    if (this.#finished) throw codecError("ERR_SPLIT_LENGTH", "Cannot merge: data after finish()", this.#pos);
    const reader = this.#parts[part];
    const header = reader.push(chunk);
    if (header !== undefined) {
      if (this.#header === undefined) this.#start(header);
      else {
        checkSplitPair(this.#header, header);
        // The two range tables are equal (just checked): the second part shares the first's, so a receiver holds
        // one table (~3,500 ranges a GiB of SD video, ~60 bytes each as objects), not two (issue 14).
        reader.header = { ...header, ranges: this.#header.ranges };
      }
    }
    return this.#drain();
  }

  /** The first header: a resumed merge starts at its position, past every range that ends before it. */
  #start(header: SplitHeader): void {
    this.#header = header;
    if (this.#resumeAt === 0) return;
    this.#pos = this.#resumeAt;
    while (this.#next < header.ranges.length) {
      const r = header.ranges[this.#next]!;
      if (r.offset + r.length > this.#pos) break;
      this.#next++;
    }
  }

  /** Body bytes received and not yet emitted, over both parts: what the merger holds in memory. */
  get buffered(): number {
    return this.#parts.protected.queued + this.#parts.direct.queued;
  }

  /**
   * Body bytes of one part emitted so far. The merger holds views of a part's chunks only past this point: a
   * chunk whose body bytes all lie before it is no longer referenced here.
   */
  emittedOf(part: SplitPartKind): number {
    const r = this.#parts[part];
    return r.received - r.queued;
  }

  /** Body bytes of one part received so far (emitted or held). */
  receivedOf(part: SplitPartKind): number {
    return this.#parts[part].received;
  }

  /** The part whose bytes the merger needs next to make progress, or undefined when it can finish. */
  needs(): SplitPartKind | undefined {
    const p = this.#parts.protected;
    const d = this.#parts.direct;
    if (this.#header === undefined) return p.header === undefined ? "protected" : "direct";
    const h = this.#header;
    if (this.#pos < h.originalLength) {
      const range = h.ranges[this.#next];
      return range !== undefined && this.#pos >= range.offset ? "protected" : "direct";
    }
    if (p.header === undefined) return "protected";
    if (d.header === undefined) return "direct";
    return undefined;
  }

  #drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const h = this.#header;
    if (h === undefined) return out;
    const p = this.#parts.protected;
    const d = this.#parts.direct;
    while (this.#pos < h.originalLength) {
      const range = h.ranges[this.#next];
      const inRange = range !== undefined && this.#pos >= range.offset;
      const stop = inRange
        ? range.offset + range.length
        : range === undefined
          ? h.originalLength
          : range.offset;
      const source = inRange ? p : d;
      const before = out.length;
      const n = source.take(stop - this.#pos, out);
      for (let i = before; i < out.length; i++) this.#hash.update(out[i]!);
      this.#pos += n;
      if (inRange && this.#pos === stop) this.#next++;
      if (n === 0 || this.#pos < stop) break;
    }
    return out;
  }

  /**
   * Call after the last chunk of both parts. Throws ERR_SPLIT_TRUNCATED when a part ended early and
   * ERR_SPLIT_INTEGRITY when the rebuilt bytes do not hash to the original's SHA-256.
   */
  finish(): SplitHeader {
    const p = this.#parts.protected;
    const d = this.#parts.direct;
    for (const r of [p, d]) {
      if (r.header === undefined) {
        throw codecError(
          "ERR_SPLIT_TRUNCATED",
          `Cannot merge: the ${r.kind} part ended inside its header`,
          0,
        );
      }
      if (r.received < r.header.bodyLength) {
        throw codecError(
          "ERR_SPLIT_TRUNCATED",
          `Cannot merge: the ${r.kind} part ended after ${r.received} of its ${r.header.bodyLength} body bytes`,
          r.header.headerLength + r.received,
        );
      }
    }
    const h = this.#header!;
    this.#finished = true;
    const digest = this.#hash.digest();
    if (this.#pos !== h.originalLength || !digest.equals(h.sha256)) {
      throw codecError(
        "ERR_SPLIT_INTEGRITY",
        "Cannot merge: the rebuilt recording does not match the original's SHA-256",
        this.#pos,
      );
    }
    return h;
  }
}
