/** @module Seals one direct-channel message into the bytes of its frame: sealed, or clear but tagged, in as few pieces as it can. */
import { TAG_BYTES } from "../../crypto/aead.ts";
import { AAD_ROOM_BYTES } from "../../crypto/chunk-tag.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import { frameHeader, LENGTH_BYTES, writeFrameHeader } from "./direct-frame.ts";
import { encodeMessage, type WireMessage } from "./direct-message.ts";
import type { FrameCipher } from "./frame-cipher.ts";

const NO_ROOM = { before: 0, after: 0 };
// The AAD is written in front of a clear plaintext to tag it, then the length prefix over its last bytes.
const CLEAR_FRAME_ROOM = { before: AAD_ROOM_BYTES, after: TAG_BYTES };

/** A sealed frame: the pieces to write to the socket in order, and its size on the wire (length prefix included). */
export interface SealedFrame {
  pieces: Uint8Array[];
  wireBytes: number;
  /** The buffer the last piece lies in, fresh and the frame's alone: free it once the socket has taken the piece. */
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
  // Sealed, the plaintext copy is dead (the sealed bytes are a new buffer): its memory goes back now.
  if (!clear) releaseBuffer(plain);
  const length = clear ? plain.byteLength + sealed.byteLength : sealed.byteLength;
  const wireBytes = LENGTH_BYTES + length;
  if (!clear) return { pieces: [frameHeader(length, clear), sealed], wireBytes, owned: sealed };
  // A clear frame is prefix || type || bytes || tag, written in the room encodeMessage left around the
  // plaintext (a fresh copy, so it may be handed on): one socket write, which the socket can pass to the
  // kernel without joining pieces.
  const frame = new Uint8Array(plain.buffer, plain.byteOffset - LENGTH_BYTES, LENGTH_BYTES + length);
  writeFrameHeader(frame, length, true);
  frame.set(sealed, LENGTH_BYTES + plain.byteLength);
  return { pieces: [frame], wireBytes, owned: new Uint8Array(plain.buffer) };
}
