/** @module The one wrapper around Bun's experimental node:quic: a pinned-certificate QUIC link on a given UDP port. */
import type { PinnedCertificate } from "../../crypto/self-signed-certificate.ts";
import { DirectChannelError } from "./direct-error.ts";
import { type QuicStreamLike, QuicStreamSocket } from "./quic-stream-socket.ts";

/*
 * node:quic is experimental (Node "1.0 - Early development"; Bun 1.4.5 implements listen/connect, QuicEndpoint,
 * QuicSession, QuicStream, lsquic inside). Bun ships no typings for it, so the few members used are typed here,
 * and nothing else in pvrlink imports node:quic: when the API moves, this file is the one to change.
 * Measured on Bun 1.4.5: connect({ endpoint: { address } }) binds the client to a chosen local port (what a punched
 * mapping needs); a stream body must be a buffer, not an iterable, so data goes through stream.writer, whose
 * writeSync() returns false while its buffer is full and has no drain event (see quic-stream-socket.ts).
 */

interface SocketAddressLike {
  readonly address: string;
  readonly port: number;
}
interface QuicStreamApi extends QuicStreamLike {
  readonly closed: Promise<void>;
}
interface QuicSessionApi {
  readonly opened: Promise<{ protocol?: string; validationErrorReason?: string }>;
  readonly closed: Promise<void>;
  readonly path?: { local: SocketAddressLike; remote: SocketAddressLike };
  readonly peerCertificate?: { fingerprint256?: string };
  onstream: ((stream: QuicStreamApi) => void) | undefined;
  onerror: ((err: unknown) => void) | undefined;
  createBidirectionalStream(): Promise<QuicStreamApi>;
  close(): Promise<void>;
  destroy(err?: unknown): void;
}
interface QuicEndpointApi {
  readonly address: SocketAddressLike;
  close(): Promise<void>;
  destroy(err?: unknown): void;
}
interface QuicModule {
  listen(onSession: (session: QuicSessionApi) => void, options: object): Promise<QuicEndpointApi>;
  connect(address: SocketAddressLike, options: object): Promise<QuicSessionApi>;
}
let loaded: Promise<QuicModule> | undefined;

/**
 * Loads node:quic on first use, so commands that never punch do not load it, and keeps its one-line
 * ExperimentalWarning off the user's terminal: the experimental status is this file's business, not theirs.
 */
function quicApi(): Promise<QuicModule> {
  loaded ??= (async () => {
    const emit = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      const text = typeof warning === "string" ? warning : warning.message;
      if (/quic/i.test(text)) return;
      (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      return (await import("node:quic")) as unknown as QuicModule;
    } finally {
      process.emitWarning = emit;
    }
  })();
  return loaded;
}

/** ALPN of the direct channel over QUIC (RFC 7301); a peer offering anything else is refused in the handshake. */
export const DIRECT_ALPN = "pvrlink-direct/1";
/** SNI the client sends; the server has one identity, so the name only has to match on both sides. */
const SERVER_NAME = "pvrlink";
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 3000;
/**
 * A path that dies for good (new wan address, a router that moved the mapping) must end the channel instead of
 * hanging it: without an idle timeout Bun's node:quic kept a dead session open past 60 s (measured). Seconds, as
 * the transport parameter takes them (RFC 9000 18.2 sends milliseconds; node:quic converts). PINGs every second
 * keep a quiet but live path from idling out, and refresh NAT mappings as a side effect.
 */
const IDLE_TIMEOUT_SEC = 5;
const KEEPALIVE_MS = 1000;
const LIVENESS = { keepAlive: KEEPALIVE_MS, transportParams: { maxIdleTimeout: IDLE_TIMEOUT_SEC } };

export interface QuicServer extends AsyncDisposable {
  readonly port: number;
  close(): Promise<void>;
}

export interface QuicListenOptions {
  host: string;
  /** The port the punch socket held; it must be closed first (a QUIC endpoint cannot share it). */
  port: number;
  certificate: PinnedCertificate;
  /** Each stream a peer opens, as a socket; who may speak is decided by the direct channel's REQUEST inside it. */
  onSocket: (socket: QuicStreamSocket) => void;
  handshakeTimeoutMs?: number;
}

function remoteOf(session: QuicSessionApi): SocketAddressLike {
  const r = session.path?.remote;
  return { address: r?.address ?? "?", port: r?.port ?? 0 };
}

/** Opens a QUIC server endpoint on host:port with the given certificate. */
export async function listenQuic(o: QuicListenOptions): Promise<QuicServer> {
  const sessions = new Set<QuicSessionApi>();
  const api = await quicApi();
  const endpoint = await api.listen(
    (session) => {
      sessions.add(session);
      session.onerror = () => {};
      void session.closed.catch(() => {}).finally(() => sessions.delete(session));
      session.onstream = (stream) => {
        const socket = new QuicStreamSocket(stream, remoteOf(session));
        followSession(session, socket);
        // The stream ends the session: one direct channel per QUIC connection.
        socket.once("close", () => void session.close().catch(() => {}));
        o.onSocket(socket);
      };
    },
    {
      endpoint: { address: { address: o.host, port: o.port } },
      sni: { "*": { keys: [o.certificate.key], certs: [Buffer.from(o.certificate.pem)] } },
      alpn: [DIRECT_ALPN],
      handshakeTimeout: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...LIVENESS,
    },
  );
  const close = async () => {
    for (const s of sessions) s.destroy();
    await endpoint.close().catch(() => {});
  };
  return { port: endpoint.address.port, close, [Symbol.asyncDispose]: close };
}

export interface QuicConnectOptions {
  host: string;
  port: number;
  /** The local address and port to send from: the punched mapping's inside end. */
  localHost: string;
  localPort: number;
  /** The server certificate's SHA-256 fingerprint, learned over an authenticated channel; anything else is refused. */
  fingerprint: string;
  timeoutMs?: number;
}

export interface QuicClient extends AsyncDisposable {
  /** Opens a bidirectional stream as a socket. */
  openSocket(): Promise<QuicStreamSocket>;
  close(): Promise<void>;
}

/**
 * Connects from localHost:localPort to host:port, completes TLS 1.3 and checks the server's certificate by its
 * pinned fingerprint. Throws ERR_DIRECT_CONNECT (no handshake in time, TLS failure) or ERR_DIRECT_PEER_UNVERIFIED.
 */
export async function connectQuic(o: QuicConnectOptions): Promise<QuicClient> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const where = `${o.host}:${o.port}`;
  const api = await quicApi();
  let session: QuicSessionApi;
  try {
    session = await api.connect(
      { address: o.host, port: o.port },
      {
        endpoint: { address: { address: o.localHost, port: o.localPort } },
        alpn: DIRECT_ALPN,
        servername: SERVER_NAME,
        // The certificate is self-signed by design; "manual" completes the handshake and leaves the check to
        // the pin below, which is stronger than a CA chain for a peer whose key came through the node.
        verifyPeer: "manual",
        handshakeTimeout: timeoutMs,
        ...LIVENESS,
      },
    );
    session.onerror = () => {};
    await withTimeout(session.opened, timeoutMs, `QUIC handshake with ${where} timed out`);
  } catch (err) {
    throw err instanceof DirectChannelError
      ? err
      : new DirectChannelError("ERR_DIRECT_CONNECT", `Cannot connect to ${where} over QUIC: ${String(err)}`);
  }
  const seen = session.peerCertificate?.fingerprint256;
  if (seen !== o.fingerprint) {
    session.destroy();
    throw new DirectChannelError(
      "ERR_DIRECT_PEER_UNVERIFIED",
      `Cannot trust ${where}: its certificate is not the one the session named`,
    );
  }
  const sockets = new Set<QuicStreamSocket>();
  const close = async () => {
    // Closed on purpose: its streams end quietly instead of failing as a lost connection.
    for (const s of sockets) s.destroy();
    await Promise.race([session.close().catch(() => {}), Bun.sleep(1000)]);
    session.destroy();
  };
  return {
    openSocket: async () => {
      const socket = new QuicStreamSocket(await session.createBidirectionalStream(), remoteOf(session));
      followSession(session, socket);
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      return socket;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Ends the socket when its QUIC connection ends (see QuicStreamSocket.sessionGone). */
function followSession(session: QuicSessionApi, socket: QuicStreamSocket): void {
  void session.closed.then(
    () => socket.sessionGone("closed"),
    (err: unknown) => socket.sessionGone(String(err)),
  );
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DirectChannelError("ERR_DIRECT_CONNECT", message)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
