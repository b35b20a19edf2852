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
  readonly frames: CodedFrame[] = [];
  #waiting: PictureRecord | null = null;

  constructor(readonly onUnpaired: (field: PictureRecord) => void) {}

  add(p: PictureRecord): void {
    if (p.structure === "frame") {
      this.flush();
      this.frames.push({ first: p.serial, second: -1 });
      return;
    }
    const first = this.#waiting;
    if (first !== null) {
      const typesFit = first.type === "I" ? p.type === "I" || p.type === "P" : p.type === first.type;
      if (p.structure !== first.structure && typesFit && p.temporalReference === first.temporalReference) {
        this.#waiting = null;
        this.frames.push({ first: first.serial, second: p.serial });
        return;
      }
      this.flush();
    }
    this.#waiting = p;
  }

  /** Ends the current frame: a waiting first field has no partner (a GOP, sequence or stream end came first). */
  flush(): void {
    const f = this.#waiting;
    if (!f) return;
    this.#waiting = null;
    this.frames.push({ first: f.serial, second: -1 });
    this.onUnpaired(f);
  }
}
