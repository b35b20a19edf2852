/** @module The send's direct-channel step: choose a path (LAN, port forward, punched), then REQUEST/ACCEPTED on it. */
import type { PeerInfo, SessionGrant } from "../../protocol/api-types.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import { dialDirect } from "../direct/direct-dial.ts";
import { DirectChannelError } from "../direct/direct-error.ts";
import { chooseDirectPath } from "./choose-direct-path.ts";
import { SendFailure } from "./send-failure.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

/** How long the direct connection may take before the sender falls back to the relay (contract: ~5 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 5000;

export interface DirectStepInput {
  session: SessionGrant;
  callee: PeerInfo;
  /** The callee's registered TCP address (or the test override). */
  target: { host: string; port: number } | undefined;
  result: SendResult;
  signal: AbortSignal;
}

/**
 * Returns the authenticated direct channel, or undefined after recording the fallback (the relay then carries
 * everything, unchanged from before punching existed). A DENIED from the callee ends the send (SendFailure).
 */
export async function openDirectChannel(
  o: SendOptions,
  s: DirectStepInput,
): Promise<DirectConnection | undefined> {
  const { session, callee, result } = s;
  const log = (message: string) => o.onEvent?.({ type: "log", message });
  const timeoutMs = o.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  if (o.relayOnly) {
    result.fallback = true;
    result.fallbackReason = "the direct path broke in the first attempt";
    return undefined;
  }
  const { chosen, failures } = await chooseDirectPath({
    ...(s.target ? { forward: s.target } : {}),
    ...(o.punch && !o.dialOverride
      ? {
          punch: {
            node: o.punch.node,
            deviceId: o.deviceId,
            secret: o.punch.secret,
            session: { id: session.id, key: session.key },
          },
        }
      : {}),
    timeoutMs,
    signal: s.signal,
  });
  if (!chosen) {
    result.fallback = true;
    result.fallbackReason = failures.join("; ");
    return undefined;
  }
  log(`direct path to ${callee.name}: ${chosen.kind} (${chosen.detail})`);
  try {
    const conn = await dialDirect({
      host: chosen.host,
      port: chosen.port,
      sessionId: session.id,
      password: session.password,
      calleePassword: session.calleePassword,
      contact:
        session.contactTicket === undefined
          ? undefined
          : { connectBy: session.connectBy, ticket: session.contactTicket },
      key: session.key,
      callerId: o.deviceId,
      calleeId: callee.id,
      timeoutMs,
      signal: s.signal,
      socket: chosen.socket,
    });
    result.directPath = chosen.kind;
    conn.path = chosen.kind;
    return conn;
  } catch (err) {
    await chosen.close();
    if (err instanceof DirectChannelError && err.code === "ERR_DIRECT_DENIED") {
      throw new SendFailure(`direct_${err.reason ?? "denied"}`, `${callee.name} denied the connection`);
    }
    // Seed A variation 9: whoever answered at the callee's address could not prove the callee's password.
    // Nothing was sent to it; the send stops rather than trust that address (or the relay) for this session.
    if (err instanceof DirectChannelError && err.code === "ERR_DIRECT_CALLEE_UNVERIFIED") {
      throw new SendFailure(
        "callee_unverified",
        `the recorder at ${callee.name}'s address could not prove ${callee.name}'s one-time password`,
      );
    }
    result.fallback = true;
    result.fallbackReason = (err as Error).message;
    return undefined;
  }
}
