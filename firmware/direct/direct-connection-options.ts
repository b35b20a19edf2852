/** @module What a direct-channel connection is built from (DirectConnectionOptions), and the defaults and limits it applies. */
import type { Duplex } from "node:stream";

export interface DirectConnectionOptions {
  /** A TCP socket, or a QUIC stream seen as one (quic-stream-socket.ts). */
  socket: Duplex;
  /** The per-connection key (see deriveConnectionKey). */
  key: CryptoKey;
  sessionId: string;
  role: "caller" | "callee";
  /** "ip:port" of the peer, for logs. */
  remote: string;
  /** Bytes that arrived after the preamble, before this object took over the socket. */
  initial?: Uint8Array[];
  /** A started frame must complete within this time (slowloris guard). */
  frameTimeoutMs?: number;
  /** Decoded-but-unread plus undecrypted bytes above which the socket stops reading. */
  highWaterBytes?: number;
}

export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
/**
 * One 1 MiB frame (issue 14): a paused socket leaves what the sender has in flight in the kernel's socket
 * buffers, which are not the recorder's resident set; 2 MiB held ~1 MiB more in the process for no throughput.
 */
export const DEFAULT_HIGH_WATER = 1024 * 1024;
/** Unflushed bytes in the socket above which send() waits for 'drain'; a few frames keep the pipe full. */
export const SEND_HIGH_WATER = 2 * 1024 * 1024;
