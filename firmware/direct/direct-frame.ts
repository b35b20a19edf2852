/** @module Direct-channel wire framing: the caller's clear preamble and the length-prefixed sealed frames. */

import { TAG_BYTES } from "../../crypto/aead.ts";
import { AAD_ROOM_BYTES } from "../../crypto/chunk-tag.ts";
import { CONTACT_TICKET_BYTES } from "../../crypto/contact-ticket.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import { DirectChannelError } from "./direct-error.ts";

// Wire layout (all integers big-endian):
//
//   preamble (caller -> callee, once, in clear):
//     +--------------+-------------+-----------+------------+-------------------+----------------+-------------+
//     | "PVRLDC" (6) | version (1) | salt (16) | sid len (1)| session id (ASCII) | connectBy (u64) | ticket (32) |
//     +--------------+-------------+-----------+------------+-------------------+----------------+-------------+
//   frame (both directions, repeated):
//     +------------------+---------------------------------------------+
//     | sealed len (u32) | AES-256-GCM(type (u8) || body) || tag (16)   |
//     +------------------+---------------------------------------------+
//
// The session id must travel in clear so the callee can pick the key; it is bound by the AAD of every frame
// (crypto/aead.ts context), and the salt by the per-connection key derivation, so changing either makes
// every frame fail to open. connectBy and the ticket are the node's contact ticket (crypto/contact-ticket.ts):
// a callee that holds no grant for the session checks them with its own device secret before it asks the
// node, so a stranger's made-up session ids cost the node nothing (issue 21 item 6).

export const PREAMBLE_MAGIC = new TextEncoder().encode("PVRLDC");
/** 2: the contact ticket follows the session id (issue 21 item 6). Version 1 preambles are refused. */
export const PROTOCOL_VERSION = 2;
/** connectBy: Unix ms, 64-bit big-endian. */
const CONNECT_BY_BYTES = 8;
/** Per-connection salt: 128 bits from the CSPRNG, so two connections of one session never share a key. */
export const SALT_BYTES = 16;
/** Session ids are base64url tokens; 64 characters is far above the node's and keeps the preamble small. */
export const MAX_SESSION_ID = 64;
const SESSION_ID = /^[A-Za-z0-9_-]+$/;
/** The length prefix of every frame. */
export const LENGTH_BYTES = 4;
/** Largest DATA payload in one frame (1 MiB): big enough for line-rate AES-GCM, small enough to stream. */
export const MAX_DATA_BYTES = 1024 * 1024;
/** Largest sealed frame: type byte + one full DATA payload + GCM tag. Anything above closes the connection. */
export const MAX_SEALED_FRAME = 1 + MAX_DATA_BYTES + TAG_BYTES;
/** Smallest sealed frame: a type byte and the tag. */
export const MIN_SEALED_FRAME = 1 + TAG_BYTES;
/**
 * High bit of the length prefix: the frame is clear, `type (u8) || bytes || GMAC tag (16)`, not sealed. A sealed
 * frame's first byte is ciphertext, so only the prefix can say which kind follows; lengths never reach 2^31.
 */
export const CLEAR_FRAME_FLAG = 0x8000_0000;

const clearFrames = new WeakSet<Uint8Array>();
/** Frames FrameReader copied into a buffer of their own with AAD_ROOM_BYTES free before them. */
const roomyFrames = new WeakSet<Uint8Array>();

/** True for a frame whose buffer has AAD_ROOM_BYTES before it that nothing else uses (its tag can be checked in place). */
export function hasAadRoom(frame: Uint8Array): boolean {
  return roomyFrames.has(frame);
}

/** True for a frame FrameReader read with CLEAR_FRAME_FLAG set (integrity-protected, not encrypted). */
export function isClearFrame(frame: Uint8Array): boolean {
  return clearFrames.has(frame);
}

export interface Preamble {
  salt: Uint8Array;
  sessionId: string;
  /** The node's contact ticket for the session; a caller without one (tests, old grants) sends zeros. */
  contact?: { connectBy: number; ticket: Uint8Array };
}

export function encodePreamble(p: Preamble): Uint8Array {
  if (p.salt.byteLength !== SALT_BYTES)
    throw new RangeError(`Cannot encode preamble: salt is not ${SALT_BYTES} bytes`);
  if (p.sessionId.length === 0 || p.sessionId.length > MAX_SESSION_ID || !SESSION_ID.test(p.sessionId)) {
    throw new RangeError("Cannot encode preamble: session id is not 1-64 base64url characters");
  }
  if (p.contact !== undefined && p.contact.ticket.byteLength !== CONTACT_TICKET_BYTES)
    throw new RangeError(`Cannot encode preamble: contact ticket is not ${CONTACT_TICKET_BYTES} bytes`);
  const sid = new TextEncoder().encode(p.sessionId);
  const sidAt = PREAMBLE_MAGIC.length + 2 + SALT_BYTES;
  const out = new Uint8Array(sidAt + sid.length + CONNECT_BY_BYTES + CONTACT_TICKET_BYTES);
  out.set(PREAMBLE_MAGIC, 0);
  out[PREAMBLE_MAGIC.length] = PROTOCOL_VERSION;
  out.set(p.salt, PREAMBLE_MAGIC.length + 1);
  out[PREAMBLE_MAGIC.length + 1 + SALT_BYTES] = sid.length;
  out.set(sid, sidAt);
  if (p.contact !== undefined) {
    const connectBy = BigInt(Math.max(0, Math.trunc(p.contact.connectBy)));
    new DataView(out.buffer).setBigUint64(sidAt + sid.length, connectBy);
    out.set(p.contact.ticket, sidAt + sid.length + CONNECT_BY_BYTES);
  }
  return out;
}

/**
 * Parses a preamble at the start of bytes. Returns undefined while more bytes are needed, the preamble and how
 * many bytes it used once complete, and throws ERR_DIRECT_PROTOCOL as soon as a byte proves it is not one.
 */
export function decodePreamble(bytes: Uint8Array): { preamble: Preamble; length: number } | undefined {
  const m = PREAMBLE_MAGIC.length;
  for (let i = 0; i < Math.min(m, bytes.length); i++) {
    if (bytes[i] !== PREAMBLE_MAGIC[i])
      throw new DirectChannelError("ERR_DIRECT_PROTOCOL", "Cannot read preamble: bad magic");
  }
  if (bytes.length > m && bytes[m] !== PROTOCOL_VERSION) {
    throw new DirectChannelError(
      "ERR_DIRECT_PROTOCOL",
      `Cannot read preamble: version ${bytes[m]} is not ${PROTOCOL_VERSION}`,
    );
  }
  const lenAt = m + 1 + SALT_BYTES;
  if (bytes.length <= lenAt) return undefined;
  const sidLen = bytes[lenAt]!;
  if (sidLen === 0 || sidLen > MAX_SESSION_ID) {
    throw new DirectChannelError(
      "ERR_DIRECT_PROTOCOL",
      `Cannot read preamble: session id length ${sidLen} is not 1-${MAX_SESSION_ID}`,
    );
  }
  const sidEnd = lenAt + 1 + sidLen;
  const end = sidEnd + CONNECT_BY_BYTES + CONTACT_TICKET_BYTES;
  if (bytes.length < end) return undefined;
  const sessionId = new TextDecoder().decode(bytes.subarray(lenAt + 1, sidEnd));
  if (!SESSION_ID.test(sessionId))
    throw new DirectChannelError("ERR_DIRECT_PROTOCOL", "Cannot read preamble: session id is not base64url");
  const connectBy = Number(
    new DataView(bytes.buffer, bytes.byteOffset + sidEnd, CONNECT_BY_BYTES).getBigUint64(0),
  );
  const ticket = bytes.slice(sidEnd + CONNECT_BY_BYTES, end);
  return {
    preamble: { salt: bytes.slice(m + 1, lenAt), sessionId, contact: { connectBy, ticket } },
    length: end,
  };
}

/** The 4-byte length prefix of a sealed frame (or, with clear, of a clear frame with its tag). */
export function frameHeader(sealedLength: number, clear = false): Uint8Array {
  return writeFrameHeader(new Uint8Array(LENGTH_BYTES), sealedLength, clear);
}

/** frameHeader written into the first LENGTH_BYTES of `into` (a whole frame's buffer); returns `into`. */
export function writeFrameHeader(into: Uint8Array, sealedLength: number, clear = false): Uint8Array {
  if (sealedLength < MIN_SEALED_FRAME || sealedLength > MAX_SEALED_FRAME) {
    throw new RangeError(
      `Cannot frame: sealed length ${sealedLength} is outside ${MIN_SEALED_FRAME}-${MAX_SEALED_FRAME}`,
    );
  }
  new DataView(into.buffer, into.byteOffset, LENGTH_BYTES).setUint32(
    0,
    clear ? (sealedLength | CLEAR_FRAME_FLAG) >>> 0 : sealedLength,
  );
  return into;
}

/** A socket chunk being read: what is left of it, the chunk whole, and whether a frame view was lent from it. */
interface HeldChunk {
  rest: Uint8Array;
  whole: Uint8Array;
  lent: boolean;
}

/**
 * Splits a byte stream into sealed frames, carrying partial frames across chunks. A length outside the limits
 * throws at once (before its body arrives), so an attacker cannot make the reader buffer 4 GiB.
 */
export class FrameReader {
  #chunks: HeldChunk[] = [];
  #buffered = 0;
  #need: number | undefined;
  #needClear = false;

  /** Bytes held that do not yet form a whole frame (for the slowloris timer). */
  get pending(): number {
    return this.#buffered;
  }

  /** Adds bytes; returns every frame they complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.byteLength > 0) {
      this.#chunks.push({ rest: chunk, whole: chunk, lent: false });
      this.#buffered += chunk.byteLength;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#need === undefined) {
        if (this.#buffered < LENGTH_BYTES) break;
        // Read at once and dropped: the prefix's view lends nothing.
        const h = this.#take(LENGTH_BYTES, 0, false);
        const prefix = new DataView(h.buffer, h.byteOffset, LENGTH_BYTES).getUint32(0);
        this.#needClear = (prefix & CLEAR_FRAME_FLAG) !== 0;
        const len = prefix & 0x7fff_ffff;
        if (len > MAX_SEALED_FRAME) {
          throw new DirectChannelError(
            "ERR_DIRECT_FRAME_TOO_LARGE",
            `Cannot read frame: length ${len} exceeds ${MAX_SEALED_FRAME}`,
          );
        }
        if (len < MIN_SEALED_FRAME) {
          throw new DirectChannelError(
            "ERR_DIRECT_PROTOCOL",
            `Cannot read frame: length ${len} is below ${MIN_SEALED_FRAME}`,
          );
        }
        this.#need = len;
      }
      if (this.#buffered < this.#need) break;
      const f = this.#take(this.#need, this.#needClear ? AAD_ROOM_BYTES : 0);
      if (this.#needClear) clearFrames.add(f);
      frames.push(f);
      this.#need = undefined;
    }
    return frames;
  }

  /**
   * The next n bytes: a view when one chunk holds them, else a copy with `room` free bytes before it. `lend`: the
   * view may outlive this call (a frame), so its chunk must not be released.
   */
  #take(n: number, room = 0, lend = true): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.rest.byteLength >= n) {
      // A view when one chunk holds it all: no copy on the common large-chunk path.
      const out = first.rest.subarray(0, n);
      if (lend) first.lent = true;
      if (first.rest.byteLength === n) this.#chunks.shift();
      else first.rest = first.rest.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(room + n).subarray(room);
    if (room > 0) roomyFrames.add(out);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.rest.byteLength, n - at);
      out.set(c.rest.subarray(0, k), at);
      at += k;
      if (k === c.rest.byteLength) {
        this.#chunks.shift();
        // Every byte copied out, and no frame view lent from it: nothing else holds the socket chunk (a 512 KiB
        // read usually ends inside a frame, so its tail is copied into the next one), so its memory goes back
        // now, not at the next collection.
        if (!c.lent) releaseBuffer(c.whole);
      } else c.rest = c.rest.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}
