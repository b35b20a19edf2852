/** @module A fresh UDP socket per session, its public mapping learned from the node, and the peer's from the same answer. */
import { createSocket, type Socket } from "node:dgram";
import { keepaliveKey } from "../../protocol/keepalive-request.ts";
import {
  buildSessionBinding,
  readSessionBindingResponse,
  type SessionBindingAnswer,
} from "../../protocol/session-binding.ts";
import type { TransportAddress } from "../../protocol/stun-address.ts";
import { isStunMessage } from "../../protocol/stun-message.ts";
import { DirectChannelError } from "./direct-error.ts";

export interface SessionMappingOptions {
  /** The node's UDP endpoint (the keepalive address). */
  node: { host: string; port: number };
  deviceId: string;
  /** The device secret; the request is MACed with its STUN subkey, as keepalives are. */
  secret: Uint8Array;
  sessionId: string;
  /** Wait this long for the peer's binding to show up in the node's answer. */
  timeoutMs?: number;
  /** Binding retry spacing: also how late the first binder learns of the second. */
  intervalMs?: number;
}

export interface SessionMapping extends AsyncDisposable {
  /** The bound socket; hand it to holePunch(), then close() it to free the port for QUIC. */
  readonly socket: Socket;
  /** This socket's LAN address (what the peer behind the same router can reach). */
  readonly local: TransportAddress;
  readonly answer: SessionBindingAnswer & { peer: TransportAddress };
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_INTERVAL_MS = 50;

/** The address this host would send to the node from (the kernel's route choice), for the LAN candidate. */
async function localAddressToward(host: string, port: number): Promise<string> {
  const probe = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.connect(port, host, () => resolve());
    });
    return probe.address().address;
  } finally {
    probe.close();
  }
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * Opens the session socket and binds it at the node until the answer carries the peer's mapping. Throws
 * ERR_DIRECT_PUNCH when the peer never binds in time, or when the node refuses (an older node, a session that
 * ended): the caller then takes the relay, as without a punch.
 */
export async function openSessionMapping(o: SessionMappingOptions): Promise<SessionMapping> {
  const key = keepaliveKey(o.secret);
  const localIp = await localAddressToward(o.node.host, o.node.port);
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, localIp, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {}); // ICMP unreachable while the node restarts must not kill the socket
  const local: TransportAddress = { family: "IPv4", address: localIp, port: socket.address().port };
  const pending = new Map<string, Uint8Array>();
  let lastError = "no answer from the node";
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const answer = await new Promise<SessionBindingAnswer & { peer: TransportAddress }>((resolve, reject) => {
      const send = () => {
        const req = buildSessionBinding({
          deviceId: o.deviceId,
          key,
          sessionId: o.sessionId,
          now: Date.now(),
          local,
        });
        pending.set(Buffer.from(req.transactionId).toString("hex"), req.transactionId);
        socket.send(req.bytes, o.node.port, o.node.host);
      };
      const onMessage = (msg: Uint8Array) => {
        if (!isStunMessage(msg) || msg.byteLength < 20) return;
        const transactionId = pending.get(Buffer.from(msg.subarray(8, 20)).toString("hex"));
        if (!transactionId) return;
        try {
          const a = readSessionBindingResponse(msg, { key, transactionId });
          if (a.peer) {
            done();
            resolve({ ...a, peer: a.peer });
          }
        } catch (err) {
          lastError = (err as Error).message;
          if (lastError.includes("refused by node")) {
            done();
            reject(new DirectChannelError("ERR_DIRECT_PUNCH", `Cannot bind session mapping: ${lastError}`));
          }
        }
      };
      const timer = setInterval(send, o.intervalMs ?? DEFAULT_INTERVAL_MS);
      const deadline = setTimeout(() => {
        done();
        reject(
          new DirectChannelError(
            "ERR_DIRECT_PUNCH",
            `Cannot learn the peer's session mapping within ${timeoutMs} ms: ${lastError}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearInterval(timer);
        clearTimeout(deadline);
        socket.off("message", onMessage);
      };
      socket.on("message", onMessage);
      send();
    });
    const close = () => closeSocket(socket);
    return { socket, local, answer, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await closeSocket(socket);
    throw err;
  }
}
