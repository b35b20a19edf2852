/** @module Which buffer each received DATA payload owns alone, so the reader can give that memory back as soon as it is done with the payload. */
import { releaseBuffer } from "../../runtime/release-buffer.ts";

/**
 * Received DATA payloads → the whole buffer each lies in, for the payloads that share it with nothing else. A
 * sealed frame opens into a fresh buffer; a clear frame that spanned socket chunks was copied into a buffer of
 * its own; a clear frame lying in one socket chunk shares that chunk with other frames and is never recorded.
 */
export class ReceivedDataOwners {
  readonly #owners = new WeakMap<Uint8Array, Uint8Array>();

  /** Records that `payload` is the only user of `owner` (nothing is recorded for a shared chunk: undefined). */
  record(payload: Uint8Array, owner: Uint8Array | undefined): void {
    if (owner !== undefined) this.#owners.set(payload, owner);
  }

  /**
   * Frees the buffer `payload` owns, once: true when its memory went back, false for a payload that owns
   * nothing (a view of a shared socket chunk) or was released already.
   */
  release(payload: Uint8Array): boolean {
    const owner = this.#owners.get(payload);
    if (owner === undefined) return false;
    this.#owners.delete(payload);
    return releaseBuffer(owner);
  }
}
