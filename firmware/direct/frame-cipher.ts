/** @module The direct channel's frame crypto: one AEAD position per frame and direction, sealed or clear but tagged. */
import { openChunk, sealChunk, TAG_BYTES } from "../../crypto/aead.ts";
import { tagChunk, verifyChunkTag } from "../../crypto/chunk-tag.ts";
import { DirectChannelError } from "./direct-error.ts";

/** crypto/aead.ts stream ids: one per direction, so the two directions never share a nonce under one key. */
export const STREAM_CALLER_TO_CALLEE = 1;
export const STREAM_CALLEE_TO_CALLER = 2;
/** AAD context prefix; the session id follows, binding every frame to the session named in the preamble. */
export const AAD_CONTEXT_PREFIX = "pvrlink/direct/";

/**
 * The chunk index is the frame counter of its direction, so the order of frames is authenticated: frames must
 * be opened strictly in arrival order, and sealed in sending order.
 */
export class FrameCipher {
  #sendKey: CryptoKey;
  #recvKey: CryptoKey;
  readonly #context: string;
  readonly #sendStream: number;
  readonly #recvStream: number;
  #sendIndex = 0n;
  #recvIndex = 0n;

  constructor(key: CryptoKey, sessionId: string, role: "caller" | "callee") {
    this.#sendKey = key;
    this.#recvKey = key;
    this.#context = AAD_CONTEXT_PREFIX + sessionId;
    this.#sendStream = role === "caller" ? STREAM_CALLER_TO_CALLEE : STREAM_CALLEE_TO_CALLER;
    this.#recvStream = role === "caller" ? STREAM_CALLEE_TO_CALLER : STREAM_CALLER_TO_CALLEE;
  }

  /**
   * The next outgoing frame's sealed bytes; for a clear frame only its tag (the plaintext travels as is). `room`:
   * a clear plaintext has AAD_ROOM_BYTES of scratch before it in its buffer (crypto/chunk-tag.ts), so it is not copied.
   */
  seal(plain: Uint8Array, clear: boolean, room = false): Promise<Uint8Array> {
    const pos = { context: this.#context, stream: this.#sendStream, index: this.#sendIndex++ };
    return clear ? tagChunk(this.#sendKey, pos, plain, { room }) : sealChunk(this.#sendKey, pos, plain);
  }

  /**
   * Switches one direction to the forward-secret key after the handshake (crypto/ephemeral-agreement.ts). The
   * frame counters run on: positions never repeat within a connection, whichever key they were sealed under.
   */
  rekey(direction: "send" | "receive", key: CryptoKey): void {
    if (direction === "send") this.#sendKey = key;
    else this.#recvKey = key;
  }

  /** Opens the next incoming frame (a clear one: checks its trailing tag); ERR_DIRECT_AUTH when that fails. */
  async open(frame: Uint8Array, clear: boolean, room = false): Promise<{ index: bigint; plain: Uint8Array }> {
    const index = this.#recvIndex++;
    const pos = { context: this.#context, stream: this.#recvStream, index };
    try {
      if (!clear) return { index, plain: await openChunk(this.#recvKey, pos, frame) };
      const plain = frame.subarray(0, frame.byteLength - TAG_BYTES);
      await verifyChunkTag(this.#recvKey, pos, plain, frame.subarray(frame.byteLength - TAG_BYTES), { room });
      return { index, plain };
    } catch {
      throw new DirectChannelError("ERR_DIRECT_AUTH", `Cannot open frame ${index}: authentication failed`);
    }
  }
}
