/** @module releaseCipherOutput(): frees a node:crypto update() output at once instead of at the next collection. */

/** AES block: the room for padding node:crypto leaves after an update()'s output. */
const CIPHER_BLOCK_BYTES = 16;

/**
 * Frees an update()'s output now that its bytes are copied back. node:crypto returns each output in an
 * ArrayBuffer of its own (16 bytes of room for padding beyond it), which JavaScriptCore frees only when it next
 * collects: until then every output lands on fresh pages, and their first writes cost more than the AES (the
 * 60 MiB H.264 TS: ~1,500 page faults per send's cipher, as crypto/keystream.ts found for the keystream).
 * Only a buffer the output alone owns is detached.
 */
export function releaseCipherOutput(out: Uint8Array): void {
  const buffer = out.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    !buffer.detached &&
    out.byteOffset === 0 &&
    buffer.byteLength - out.byteLength <= CIPHER_BLOCK_BYTES
  )
    buffer.transfer(0);
}
