/** @module Seals one direct-channel message into the bytes of its frame: sealed, or clear but tagged, in as few pieces as it can. */
import { TAG_BYTES } from "../../crypto/aead.ts";
import { AAD_ROOM_BYTES } from "../../crypto/chunk-tag.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import { LENGTH_BYTES, writeFrameHeader } from "./direct-frame.ts";
import { encodeMessage, type WireMessage } from "./direct-message.ts";
import type { FrameCipher } from "./frame-cipher.ts";

const NO_ROOM = { before: 0, after: 0 };
// The AAD is written in front of a clear plaintext to tag it, then the length prefix over its last bytes.
const CLEAR_FRAME_ROOM = { before: AAD_ROOM_BYTES, after: TAG_BYTES };

/** A sealed frame: its bytes on the wire (length prefix included), in one buffer that is the frame's alone. */
export interface SealedFrame {
  /** One socket write: node:net joins the pieces of separate writes it has to queue with Buffer.concat. */
  bytes: Uint8Array;
  wireBytes: number;
  /** The whole buffer `bytes` lies in: free it once the socket has taken the frame. */
  owned: Uint8Array;
}

/**
 * Seals `m` as the cipher's next outgoing frame (so calls must come in sending order). Clear DATA travels as a
 * clear, authenticated frame (TYPE_DATA_CLEAR); everything else is sealed.
 */
export async function sealMessageFrame(cipher: FrameCipher, m: WireMessage): Promise<SealedFrame> {
  const clear = m.type === "data" && m.clear === true;
  const plain = encodeMessage(m, clear ? CLEAR_FRAME_ROOM : NO_ROOM);
  const sealed = await cipher.seal(plain, clear, clear);
  const length = clear ? plain.byteLength + sealed.byteLength : sealed.byteLength;
  const wireBytes = LENGTH_BYTES + length;
  if (!clear) {
    // Sealed, the plaintext copy is dead (the sealed bytes are a new buffer): its memory goes back now. A payload
    // encoded in place (lendTypeRoom) is its owner's buffer, reused for the next frame.
    if (m.type !== "data" || plain.buffer !== m.bytes.buffer) releaseBuffer(plain);
    // WebCrypto gives the sealed bytes a buffer of their own, with no room for the prefix: one copy behind it
    // here costs less than a second socket write, which node:net joins to the first with Buffer.concat
    // (with both queued behind earlier frames: 18% of the sender's CPU, the joins 21%).
    const frame = writeFrameHeader(new Uint8Array(wireBytes), length);
    frame.set(sealed, LENGTH_BYTES);
    releaseBuffer(sealed);
    return { bytes: frame, wireBytes, owned: frame };
  }
  // A clear frame is prefix || type || bytes || tag, written in the room encodeMessage left around the
  // plaintext (a fresh copy, so it may be handed on): one socket write, which the socket can pass to the
  // kernel without joining pieces.
  const frame = new Uint8Array(plain.buffer, plain.byteOffset - LENGTH_BYTES, LENGTH_BYTES + length);
  writeFrameHeader(frame, length, true);
  frame.set(sealed, LENGTH_BYTES + plain.byteLength);
  return { bytes: frame, wireBytes, owned: new Uint8Array(plain.buffer) };
}
