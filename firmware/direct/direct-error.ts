/** @module The direct channel's one error class: a stable code per way a connection can fail. */

/**
 * Codes:
 * - ERR_DIRECT_PROTOCOL: bytes that are not the direct-channel protocol (bad preamble, unknown frame type, bad JSON).
 * - ERR_DIRECT_FRAME_TOO_LARGE: a frame length above the maximum; the connection closes before reading it.
 * - ERR_DIRECT_AUTH: a frame failed to open (wrong key, tampered, forged, replayed or reordered).
 * - ERR_DIRECT_UNKNOWN_SESSION: the callee holds no ticket for the session id in the preamble.
 * - ERR_DIRECT_TIMEOUT: the handshake or a started frame did not complete in time (slowloris).
 * - ERR_DIRECT_TRUNCATED: the stream ended inside a frame or without a CLOSE.
 * - ERR_DIRECT_DENIED: the callee answered DENIED; `reason` carries its code.
 * - ERR_DIRECT_PEER_UNVERIFIED: the callee's ACCEPTED did not echo the caller's nonce.
 * - ERR_DIRECT_CALLEE_UNVERIFIED: the callee's ACCEPTED did not carry its one-time password (seed A variation 9).
 * - ERR_DIRECT_EXPIRED: the session's permitted duration ran out.
 * - ERR_DIRECT_CLOSED: used after close(), or the peer closed with a reason other than "done".
 * - ERR_DIRECT_CONNECT: the TCP connection (or the QUIC handshake) could not be made.
 * - ERR_DIRECT_PUNCH: no authenticated UDP path to the peer was confirmed before the punch deadline.
 */
export type DirectErrorCode =
  | "ERR_DIRECT_PROTOCOL"
  | "ERR_DIRECT_FRAME_TOO_LARGE"
  | "ERR_DIRECT_AUTH"
  | "ERR_DIRECT_UNKNOWN_SESSION"
  | "ERR_DIRECT_TIMEOUT"
  | "ERR_DIRECT_TRUNCATED"
  | "ERR_DIRECT_DENIED"
  | "ERR_DIRECT_PEER_UNVERIFIED"
  | "ERR_DIRECT_CALLEE_UNVERIFIED"
  | "ERR_DIRECT_EXPIRED"
  | "ERR_DIRECT_CLOSED"
  | "ERR_DIRECT_CONNECT"
  | "ERR_DIRECT_PUNCH";

export class DirectChannelError extends Error {
  constructor(
    readonly code: DirectErrorCode,
    message: string,
    /** For ERR_DIRECT_DENIED and ERR_DIRECT_CLOSED: the peer's reason code. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = "DirectChannelError";
  }
}
