/** @module The UDP node's side of a NATS trigger request: send the trigger from its own socket, reply with the recorder's ACK. */
import type { TriggerPort } from "../query/trigger-port.ts";
import type { NatsBus } from "./nats-bus.ts";
import { decodeTriggerRequest, encodeTriggerReply, triggerSubject } from "./trigger-request.ts";

/**
 * Answers requests on this node's subject. The trigger leaves from the node's own UDP socket, the one whose
 * mapping the recorder's NAT lets back in. A malformed request gets no reply (the requester times out), and is
 * logged; it never reaches the socket.
 */
export function serveTriggers(o: {
  bus: NatsBus;
  nodeId: string;
  endpoint: TriggerPort;
  log: (msg: string) => void;
}): void {
  o.bus.serve(triggerSubject(o.nodeId), async (data) => {
    let req: ReturnType<typeof decodeTriggerRequest>;
    try {
      req = decodeTriggerRequest(data);
    } catch (err) {
      o.log(`trigger request refused: ${(err as Error).message}`);
      return null;
    }
    const ack = await o.endpoint.trigger(req.deviceId, req.kind, req.ref, { deadlineMs: req.deadlineMs });
    return encodeTriggerReply({ ack });
  });
}
