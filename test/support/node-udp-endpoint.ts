/** @module The control node's UDP endpoint on 127.0.0.1, port 0, for recorder-side tests: keepalives answered, sessions' punch bindings relayed. */
import type { SessionParties } from "../../control/udp/session-rendezvous.ts";
import { UdpEndpoint } from "../../control/udp/udp-endpoint.ts";

/**
 * A real node endpoint that knows `secrets` (device id to device secret), rate limit off; `onKeepalive` sees
 * each answered keepalive's device, `sessionParties` names the parties of the sessions it rendezvouses.
 */
export async function startNodeUdpEndpoint(o: {
  secrets: Record<string, Uint8Array>;
  onKeepalive?: (deviceId: string) => void;
  sessionParties?: (sessionId: string) => SessionParties | null;
}): Promise<UdpEndpoint & AsyncDisposable> {
  const endpoint = await UdpEndpoint.start({
    host: "127.0.0.1",
    port: 0,
    lookupSecret: (id) => o.secrets[id] ?? null,
    onKeepalive: (id) => o.onKeepalive?.(id),
    rateLimit: false,
    ...(o.sessionParties ? { sessionParties: o.sessionParties } : {}),
  });
  return Object.assign(endpoint, { [Symbol.asyncDispose]: () => endpoint.close() });
}
