/** @module The caller's side of the direct channel: connect, send the sealed REQUEST, verify the callee. */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { deriveForwardSecretKey, generateEphemeralKey } from "../../crypto/ephemeral-agreement.ts";
import { tagsEqual } from "../../crypto/hmac.ts";
import { fromBase64url, randomBytes, randomToken } from "../../crypto/random-token.ts";
import { deriveConnectionKey } from "./connection-key.ts";
import { DirectConnection } from "./direct-connection.ts";
import { DirectChannelError } from "./direct-error.ts";
import { encodePreamble, SALT_BYTES } from "./direct-frame.ts";

export interface DialOptions {
  host: string;
  port: number;
  /** From the query answer: session.id, session.password, session.key (base64url or raw). */
  sessionId: string;
  password: string;
  key: Uint8Array | string;
  /**
   * The callee's one-time password from the query answer (seed A variation 9): when given, ACCEPTED must carry
   * it, or the caller refuses the callee (ERR_DIRECT_CALLEE_UNVERIFIED) before sending anything.
   */
  calleePassword?: string | undefined;
  /** The node's contact ticket from the query answer (base64url) and the session's connectBy (issue 21 item 6). */
  contact?: { connectBy: number; ticket: string } | undefined;
  /** This device's id (the REQUEST identifier). */
  callerId: string;
  /** The callee's device id, kept as conn.peerId. */
  calleeId?: string;
  /** Time for TCP connect plus handshake. */
  timeoutMs?: number;
  frameTimeoutMs?: number;
  signal?: AbortSignal;
  /** An already open transport (a QUIC stream on a punched path); host and port then only name it in logs. */
  socket?: Duplex;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Constant time in the expected password's length; a missing one never matches. */
function passwordsEqual(got: string | undefined, want: string): boolean {
  const enc = new TextEncoder();
  return got !== undefined && tagsEqual(enc.encode(got), enc.encode(want));
}

/** Opens a TCP connection for the direct channel (no byte sent yet); throws ERR_DIRECT_CONNECT. */
export function openSocket(
  host: string,
  port: number,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true });
    const fail = (why: string) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      s.destroy();
      reject(new DirectChannelError("ERR_DIRECT_CONNECT", `Cannot connect to ${host}:${port}: ${why}`));
    };
    const onAbort = () => fail("aborted");
    const timer = setTimeout(() => fail("timed out"), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    s.once("error", (err) => fail(err.message));
    s.once("connect", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      s.removeAllListeners("error");
      resolve(s);
    });
  });
}

/**
 * Connects and authenticates both ways: the callee proves the key by sealing ACCEPTED with our nonce echoed,
 * and nothing is sent before that check. Throws ERR_DIRECT_DENIED (reason = the callee's code),
 * ERR_DIRECT_PEER_UNVERIFIED, ERR_DIRECT_CONNECT, ERR_DIRECT_TIMEOUT or ERR_DIRECT_AUTH.
 */
export async function dialDirect(o: DialOptions): Promise<DirectConnection> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sessionKey = typeof o.key === "string" ? fromBase64url(o.key) : o.key;
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveConnectionKey(sessionKey, salt);
  const socket = o.socket ?? (await openSocket(o.host, o.port, { timeoutMs, signal: o.signal }));
  const contact = o.contact && { connectBy: o.contact.connectBy, ticket: fromBase64url(o.contact.ticket) };
  socket.write(encodePreamble({ salt, sessionId: o.sessionId, ...(contact ? { contact } : {}) }));
  const conn = new DirectConnection({
    socket,
    key,
    sessionId: o.sessionId,
    role: "caller",
    remote: `${o.host}:${o.port}`,
    ...(o.frameTimeoutMs !== undefined ? { frameTimeoutMs: o.frameTimeoutMs } : {}),
  });
  const onAbort = () => conn.fail(new DirectChannelError("ERR_DIRECT_CONNECT", "Handshake aborted"));
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const nonce = randomToken(16);
    const eph = await generateEphemeralKey();
    await conn.send({ type: "request", id: o.callerId, password: o.password, nonce, eph: eph.publicKey });
    const answer = await conn.receiveHandshake(timeoutMs);
    if (answer?.type === "denied") {
      conn.fail(new DirectChannelError("ERR_DIRECT_DENIED", `Callee denied: ${answer.code}`, answer.code));
      throw new DirectChannelError(
        "ERR_DIRECT_DENIED",
        `Callee denied the connection: ${answer.code}`,
        answer.code,
      );
    }
    if (answer?.type !== "accepted" || answer.nonce !== nonce) {
      const err = new DirectChannelError(
        "ERR_DIRECT_PEER_UNVERIFIED",
        "Callee did not prove the session key",
      );
      conn.fail(err);
      throw err;
    }
    if (o.calleePassword !== undefined && !passwordsEqual(answer.password, o.calleePassword)) {
      const err = new DirectChannelError(
        "ERR_DIRECT_CALLEE_UNVERIFIED",
        "Callee did not prove its one-time password",
      );
      conn.fail(err);
      throw err;
    }
    if (answer.eph !== undefined) {
      // The callee sends nothing more until our OFFER, so both directions switch here, between frames.
      const fs = await deriveForwardSecretKey({
        own: eph,
        peerPublicKey: answer.eph,
        role: "caller",
        transferKey: sessionKey,
        salt,
        sessionId: o.sessionId,
      });
      conn.rekey("send", fs.frames);
      conn.rekey("receive", fs.frames);
      conn.relayKey = fs.relay;
    }
    conn.peerId = o.calleeId ?? "";
    conn.peerResumes = answer.resume === true;
    if (answer.patternVersions !== undefined) conn.peerPatternVersions = answer.patternVersions;
    conn.setExpiry(answer.expiresAt);
    return conn;
  } catch (err) {
    conn.fail(
      err instanceof DirectChannelError ? err : new DirectChannelError("ERR_DIRECT_PROTOCOL", String(err)),
    );
    throw err;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
}
