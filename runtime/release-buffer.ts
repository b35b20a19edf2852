/** @module releaseBuffer(): gives a dead transfer buffer's memory back at once, instead of at the next collection. */

/** Smaller buffers are left to the collector: the saving is not worth a call, and Buffer's 8 KiB pool slabs are shared. */
export const RELEASE_MIN_BYTES = 64 * 1024;

/**
 * A transfer drops a fresh buffer or two per MiB (socket chunks, gathered frames, sealed copies). JavaScriptCore
 * frees an ArrayBuffer's memory only when a collection finds it dead, so between collections the resident set
 * holds every one of them. Detaching the buffer (ArrayBuffer.prototype.transfer(0), ES2024) frees its memory
 * now. Only a view that spans its whole, ordinary ArrayBuffer is released: a partial view may share its buffer
 * with bytes someone else still reads (a pool slab, the rest of a socket chunk), so it is left alone.
 *
 * The caller must own the buffer outright: every other view of it reads zero bytes afterwards. Returns whether
 * the memory was released.
 */
export function releaseBuffer(view: Uint8Array): boolean {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.resizable || buffer.detached) return false;
  if (view.byteOffset !== 0 || view.byteLength !== buffer.byteLength) return false;
  if (buffer.byteLength < RELEASE_MIN_BYTES) return false;
  buffer.transfer(0);
  return true;
}
