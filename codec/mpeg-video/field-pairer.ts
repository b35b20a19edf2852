/** @module Pairs the two field pictures of each coded frame (ISO/IEC 13818-2 6.1.1.4.1, 6.3.10). */
import type { PictureRecord } from "../recording-index.ts";

/** One coded frame: a frame picture, a field pair, or a field left without partner (`second` = -1). */
export interface CodedFrame {
  /** Serial of the frame picture or first field. */
  first: number;
  /** Serial of the second field, or -1. */
  second: number;
}

/**
 * Groups pictures into frames as they are finalized. Two consecutive field pictures form a frame when they
 * have opposite parity, the same temporal_reference, and types I+I, I+P, P+P or B+B (6.1.1.4.1: the second
 * field of an I frame may be a P field). Anything else leaves the waiting field alone and reports it.
 */
export class FieldPairer {
  // Serials, two per frame, in a plain array of small integers: one object per frame was, with the picture
  // records, what brought on a garbage collection while indexing a 270 MB recording. `frames` builds the
  // objects when asked (the indexers never ask).
  readonly #serials: number[] = [];
  #frames: CodedFrame[] = [];
  #waiting: PictureRecord | null = null;

  constructor(readonly onUnpaired: (field: PictureRecord) => void) {}

  /** The frames so far, in stream order. */
  get frames(): readonly CodedFrame[] {
    const serials = this.#serials;
    for (let i = this.#frames.length * 2; i < serials.length; i += 2) {
      this.#frames.push({ first: serials[i] as number, second: serials[i + 1] as number });
    }
    return this.#frames;
  }

  add(p: PictureRecord): void {
    if (p.structure === "frame") {
      this.flush();
      this.#serials.push(p.serial, -1);
      return;
    }
    const first = this.#waiting;
    if (first !== null) {
      const typesFit = first.type === "I" ? p.type === "I" || p.type === "P" : p.type === first.type;
      if (p.structure !== first.structure && typesFit && p.temporalReference === first.temporalReference) {
        this.#waiting = null;
        this.#serials.push(first.serial, p.serial);
        return;
      }
      this.flush();
    }
    this.#waiting = p;
  }

  /** Forgets the frames so far; a field still waiting for its partner stays. */
  forget(): void {
    this.#serials.length = 0;
    this.#frames = [];
  }

  /** Ends the current frame: a waiting first field has no partner (a GOP, sequence or stream end came first). */
  flush(): void {
    const f = this.#waiting;
    if (!f) return;
    this.#waiting = null;
    this.#serials.push(f.serial, -1);
    this.onUnpaired(f);
  }
}
