/** @module Reassembles PSI sections spread over Transport Stream packets (ISO/IEC 13818-1 2.4.4.1, pointer_field). */

import { psiSectionLength, SECTION_HEADER_LENGTH, TABLE_ID_STUFFING } from "./psi-section.ts";

/** Room for the longest private section: 3 + 4093 bytes, ISO/IEC 13818-1 2.4.4.11. */
const MAX_SECTION_BYTES = 4096;

/**
 * Collects the sections of one PID. Packets with payload_unit_start_indicator carry a pointer_field: the
 * bytes before it finish the section in progress, a new section starts after it, and several sections may
 * follow back to back until 0xFF stuffing.
 */
export class PsiAssembler {
  #buf = new Uint8Array(MAX_SECTION_BYTES);
  #fill = 0;
  #collecting = false;
  #startOffset = 0;

  readonly #onSection: (section: Uint8Array, fileOffset: number) => void;
  readonly #onError: (offset: number, code: string, message: string) => void;

  constructor(
    onSection: (section: Uint8Array, fileOffset: number) => void,
    onError: (offset: number, code: string, message: string) => void,
  ) {
    this.#onSection = onSection;
    this.#onError = onError;
  }

  /** A section is in progress: the next packet's bytes continue it. */
  get inSection(): boolean {
    return this.#collecting;
  }

  /** Drops the section in progress (after a continuity error). */
  reset(): void {
    this.#collecting = false;
    this.#fill = 0;
  }

  push(payload: Uint8Array, payloadUnitStart: boolean, fileOffset: number): void {
    let p = 0;
    if (payloadUnitStart) {
      if (payload.length < 1) return;
      const pointer = payload[0]!;
      p = 1;
      if (p + pointer > payload.length) {
        this.#onError(
          fileOffset,
          "ERR_PSI_POINTER",
          `Cannot read PSI: pointer_field ${pointer} runs past the packet`,
        );
        this.reset();
        return;
      }
      if (this.#collecting) this.#append(payload.subarray(p, p + pointer));
      if (this.#collecting) {
        this.#onError(
          this.#startOffset,
          "ERR_PSI_TRUNCATED",
          "Cannot read PSI section: a new section started first",
        );
      }
      this.reset();
      p += pointer;
      this.#startSections(payload, p, fileOffset);
      return;
    }
    if (this.#collecting) this.#append(payload);
  }

  #startSections(payload: Uint8Array, from: number, fileOffset: number): void {
    let p = from;
    while (p < payload.length && payload[p] !== TABLE_ID_STUFFING) {
      this.#collecting = true;
      this.#fill = 0;
      this.#startOffset = fileOffset + p;
      const before = p;
      p += this.#append(payload.subarray(p));
      if (this.#collecting || p === before) return;
    }
  }

  /** Appends bytes to the section in progress; emits it when complete. Returns the bytes used. */
  #append(bytes: Uint8Array): number {
    let used = 0;
    while (this.#collecting && used < bytes.length) {
      const have = this.#fill;
      const need =
        have < SECTION_HEADER_LENGTH
          ? SECTION_HEADER_LENGTH
          : psiSectionLength(this.#buf.subarray(0, have), 0);
      if (need > MAX_SECTION_BYTES) {
        this.#onError(
          this.#startOffset,
          "ERR_PSI_SECTION_LENGTH",
          `Cannot read PSI section: ${need} bytes exceed 4096`,
        );
        this.reset();
        return bytes.length;
      }
      const take = Math.min(need - have, bytes.length - used);
      this.#buf.set(bytes.subarray(used, used + take), have);
      this.#fill += take;
      used += take;
      if (
        this.#fill >= SECTION_HEADER_LENGTH &&
        this.#fill === psiSectionLength(this.#buf.subarray(0, this.#fill), 0)
      ) {
        this.#collecting = false;
        this.#onSection(this.#buf.slice(0, this.#fill), this.#startOffset);
        this.#fill = 0;
      }
    }
    return used;
  }
}
