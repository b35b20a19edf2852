/** @module The slice of the UDP endpoint (control/udp) the HTTP side uses: push one authenticated trigger and await its ACK. */

export type TriggerKind = "contact" | "status" | "verdict" | "end" | "data" | "list";

/** Matches UdpEndpoint.trigger: resolves the ACK's answer, or null on timeout or when no mapping is known. */
export interface TriggerPort {
  trigger(
    deviceId: string,
    kind: TriggerKind,
    ref: Record<string, unknown>,
    opts?: { deadlineMs?: number },
  ): Promise<{ answer?: string } | null>;
}
