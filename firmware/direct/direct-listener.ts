/** @module The callee's direct-channel listener: reads the preamble, checks the REQUEST against its tickets, answers. */
import { createServer, type Server, type Socket } from "node:net";
import {
  deriveForwardSecretKey,
  type ForwardSecretKeys,
  generateEphemeralKey,
} from "../../crypto/ephemeral-agreement.ts";
import { randomToken } from "../../crypto/random-token.ts";
import { deriveConnectionKey } from "./connection-key.ts";
import { DirectConnection } from "./direct-connection.ts";
import { DirectChannelError, type DirectErrorCode } from "./direct-error.ts";
import { decodePreamble, type Preamble } from "./direct-frame.ts";
import type { QuicStreamSocket } from "./quic-stream-socket.ts";
import type { SessionTicket, SessionTicketStore } from "./session-ticket-store.ts";

/** What the listener logs; never a password, key or payload byte. */
export interface DirectLogEvent {
  code: DirectErrorCode | "DIRECT_ACCEPTED" | "DIRECT_DENIED";
  message: string;
  remote: string;
  sessionId?: string;
  /** The DENIED reason or the peer's device id on acceptance. */
  detail?: string;
}

/** The contact ticket a preamble carried: what a callee without the grant checks before asking the node. */
export type PreambleContact = NonNullable<Preamble["contact"]>;

export interface DirectListenerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tickets: SessionTicketStore;
  /**
   * Called once for a preamble naming a session with no ticket, before it is refused: the caller may dial
   * before the callee has fetched its grant (the node's contact trigger races the QUERY answer), so the
   * callee fetches pending sessions here and the ticket is looked up again. Keep it coalesced: strangers can
   * send any session id. False: the preamble proved nothing (issue 21 item 6); the connection is closed without
   * a log event, as the hook counts it and a stranger's flood must not flood the callee's log.
   */
  onUnknownSession?: (
    sessionId: string,
    source: string,
    contact: PreambleContact,
  ) => Promise<boolean | undefined>;
  /**
   * Asked after the REQUEST proved the ticket's password: false denies it as "revoked" (the callee's own list
   * no longer permits the caller, issue 21 item 3). Absent: every valid ticket is admitted.
   */
  stillPermitted?: (ticket: SessionTicket) => boolean;
  /** Called with each accepted connection; the callee reads its messages() and closes it. */
  onConnection: (conn: DirectConnection, ticket: SessionTicket) => void;
  log?: (event: DirectLogEvent) => void;
  /** The preamble and REQUEST must arrive within this time. */
  handshakeTimeoutMs?: number;
  frameTimeoutMs?: number;
  /**
   * Connections still in the handshake (unauthenticated) at most; a new one beyond it evicts the oldest, so idle
   * sockets cannot hold every slot and push real callers onto the relay (issue 21 item 7).
   */
  maxHandshakes?: number;
  /** Handshakes from one source address at most; beyond it the new connection is dropped. */
  maxHandshakesPerSource?: number;
  /** ACCEPTED says `resume: true`: the application answers RESUME before an OFFER (docs/protocol.md 12.6). */
  resume?: boolean;
  /** ACCEPTED lists the pattern header versions the application reads (docs/protocol.md 12.3). */
  patternVersions?: readonly number[];
}

export interface DirectListener extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** Accepted connections still open. */
  readonly connections: ReadonlySet<DirectConnection>;
  /** Handles a connection another transport accepted (a QUIC stream on a punched path) like a TCP one. */
  adopt(socket: Socket | QuicStreamSocket): void;
  /** Stops listening and ends every open connection. */
  close(): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Listens for callers on host:port (default 0.0.0.0:0). */
export async function listenDirect(o: DirectListenerOptions): Promise<DirectListener> {
  const log = o.log ?? (() => {});
  const handshakeTimeoutMs = o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const maxHandshakes = o.maxHandshakes ?? 64;
  const maxPerSource = o.maxHandshakesPerSource ?? 8;
  const connections = new Set<DirectConnection>();
  const sockets = new Set<Socket | QuicStreamSocket>();
  /** Sockets in the handshake with their source, oldest first (a Map keeps insertion order); count per source. */
  const handshaking = new Map<Socket | QuicStreamSocket, string>();
  const perSource = new Map<string, number>();

  const handle = (socket: Socket | QuicStreamSocket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // reported through 'close'; an unhandled error must not take the listener down
    const source = socket.remoteAddress ?? "";
    const fromSource = perSource.get(source) ?? 0;
    if (fromSource >= maxPerSource) {
      log({ code: "ERR_DIRECT_TIMEOUT", message: "Too many handshakes from this address; dropped", remote });
      socket.destroy();
      return;
    }
    if (handshaking.size >= maxHandshakes) {
      const oldest = handshaking.keys().next().value;
      if (oldest) {
        log({ code: "ERR_DIRECT_TIMEOUT", message: "Oldest unauthenticated connection evicted", remote });
        oldest.destroy();
        release(oldest);
      }
    }
    handshaking.set(socket, source);
    perSource.set(source, fromSource + 1);
    const done = () => release(socket);
    socket.once("close", done);
    socket.setNoDelay(true);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const drop = (code: DirectErrorCode, message: string, sessionId?: string) => {
      log({ code, message, remote, ...(sessionId ? { sessionId } : {}) });
      socket.destroy();
    };
    const timer = setTimeout(
      () => drop("ERR_DIRECT_TIMEOUT", "Preamble not received in time"),
      handshakeTimeoutMs,
    );
    socket.once("close", () => clearTimeout(timer));

    const onData = (chunk: Uint8Array) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      let parsed: ReturnType<typeof decodePreamble>;
      try {
        parsed = decodePreamble(all);
      } catch (err) {
        clearTimeout(timer);
        drop((err as DirectChannelError).code, (err as Error).message);
        return;
      }
      if (!parsed) return;
      // Stop reading until the connection object owns the socket, so no byte is lost meanwhile.
      socket.pause();
      socket.off("data", onData);
      clearTimeout(timer);
      const rest = all.subarray(parsed.length);
      void accept(socket, remote, parsed.preamble, rest, drop).finally(done);
    };
    socket.on("data", onData);
  };

  /** Ends a socket's handshake accounting, once (it authenticated, failed, closed or was evicted). */
  function release(socket: Socket | QuicStreamSocket): void {
    const source = handshaking.get(socket);
    if (source === undefined) return;
    handshaking.delete(socket);
    const n = (perSource.get(source) ?? 1) - 1;
    if (n <= 0) perSource.delete(source);
    else perSource.set(source, n);
  }

  const accept = async (
    socket: Socket | QuicStreamSocket,
    remote: string,
    preamble: Preamble,
    rest: Uint8Array,
    drop: (code: DirectErrorCode, message: string, sessionId?: string) => void,
  ) => {
    const { sessionId, salt } = preamble;
    let raw = o.tickets.keyFor(sessionId);
    if (!raw && o.onUnknownSession) {
      const contact = preamble.contact ?? { connectBy: 0, ticket: new Uint8Array(0) };
      const proven = await o
        .onUnknownSession(sessionId, socket.remoteAddress ?? "", contact)
        .catch(() => true);
      if (proven === false) return void socket.destroy();
      if (socket.destroyed) return;
      raw = o.tickets.keyFor(sessionId);
    }
    if (!raw) return drop("ERR_DIRECT_UNKNOWN_SESSION", "No ticket for session", sessionId);
    const key = await deriveConnectionKey(raw, salt);
    if (socket.destroyed) return;
    const conn = new DirectConnection({
      socket,
      key,
      sessionId,
      role: "callee",
      remote,
      initial: rest.byteLength ? [rest] : [],
      ...(o.frameTimeoutMs !== undefined ? { frameTimeoutMs: o.frameTimeoutMs } : {}),
    });
    let first: Awaited<ReturnType<DirectConnection["receive"]>>;
    try {
      first = await conn.receiveHandshake(handshakeTimeoutMs);
    } catch (err) {
      const e = err as DirectChannelError;
      log({ code: e.code, message: e.message, remote, sessionId });
      conn.fail(e);
      return;
    }
    if (first?.type !== "request") {
      const e = new DirectChannelError(
        "ERR_DIRECT_PROTOCOL",
        `Expected REQUEST, got ${first?.type ?? "end of stream"}`,
      );
      log({ code: e.code, message: e.message, remote, sessionId });
      conn.fail(e);
      return;
    }
    const consumed = o.tickets.consume(sessionId, first.id, first.password);
    const verdict =
      "ticket" in consumed && o.stillPermitted && !o.stillPermitted(consumed.ticket)
        ? { reason: "revoked" as const }
        : consumed;
    if ("reason" in verdict) {
      log({ code: "DIRECT_DENIED", message: "REQUEST denied", remote, sessionId, detail: verdict.reason });
      try {
        await conn.send({ type: "denied", code: verdict.reason });
      } catch {
        // The caller left already.
      }
      await Promise.race([conn.close("denied"), Bun.sleep(2000)]);
      conn.fail(new DirectChannelError("ERR_DIRECT_DENIED", "Denied", verdict.reason));
      return;
    }
    const ticket = verdict.ticket;
    let forwardSecret: { keys: ForwardSecretKeys; eph: string } | undefined;
    try {
      if (first.eph !== undefined) {
        const own = await generateEphemeralKey();
        const keys = await deriveForwardSecretKey({
          own,
          peerPublicKey: first.eph,
          role: "callee",
          transferKey: raw,
          salt,
          sessionId,
        });
        forwardSecret = { keys, eph: own.publicKey };
        // The caller's next frame follows our ACCEPTED, so the receiving side switches before it is sent.
        conn.rekey("receive", keys.frames);
      }
    } catch {
      const e = new DirectChannelError("ERR_DIRECT_PROTOCOL", "REQUEST carried an unusable ephemeral key");
      log({ code: e.code, message: e.message, remote, sessionId });
      conn.fail(e);
      return;
    }
    try {
      await conn.send({
        type: "accepted",
        nonce: first.nonce,
        calleeNonce: randomToken(16),
        expiresAt: ticket.expiresAt,
        ...(forwardSecret === undefined ? {} : { eph: forwardSecret.eph }),
        ...(ticket.calleePassword !== undefined ? { password: ticket.calleePassword } : {}),
        ...(o.resume === true ? { resume: true } : {}),
        ...(o.patternVersions === undefined ? {} : { patternVersions: [...o.patternVersions] }),
      });
    } catch {
      return;
    }
    if (forwardSecret !== undefined) {
      conn.rekey("send", forwardSecret.keys.frames);
      conn.relayKey = forwardSecret.keys.relay;
    }
    conn.peerId = first.id;
    conn.path = "via" in socket ? socket.via : "port-forward";
    conn.setExpiry(ticket.expiresAt);
    const unwatch = o.tickets.watch(sessionId, (expiresAt) => {
      if (expiresAt === undefined) void conn.abort("ended");
      else conn.setExpiry(expiresAt);
    });
    connections.add(conn);
    void conn.closed.then(() => {
      unwatch();
      connections.delete(conn);
    });
    log({ code: "DIRECT_ACCEPTED", message: "Caller accepted", remote, sessionId, detail: first.id });
    o.onConnection(conn, ticket);
  };

  const server: Server = createServer({ pauseOnConnect: false }, handle);
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("Cannot listen: no TCP address");

  const close = async () => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...connections].map((c) => Promise.race([c.abort("shutdown"), Bun.sleep(1000)])));
    for (const s of sockets) s.destroy();
    await stopped;
  };
  return {
    host: addr.address,
    port: addr.port,
    connections,
    adopt: handle,
    close,
    [Symbol.asyncDispose]: close,
  };
}
