/** @module What the recorder does for each trigger kind the node sends: status, verdict, contact, end, data. */
import type { DeviceAllowList } from "../permit/device-allow-list.ts";
import type { DaemonLog } from "./daemon-log.ts";
import { revokedByDeviceList } from "./device-held-revocation.ts";
import type { InboxPickup } from "./inbox-pickup.ts";
import type { RecorderLoad } from "./recorder-load.ts";
import type { RecordingReceiver } from "./recording-receiver.ts";
import type { SessionEnding } from "./session-ending.ts";
import type { SessionIntake } from "./session-intake.ts";
import type { TriggerHandlers } from "./trigger-dispatcher.ts";

export interface RecorderTriggerParts {
  load: RecorderLoad;
  allow: DeviceAllowList;
  sessions: SessionIntake;
  receiver: RecordingReceiver;
  pickup: InboxPickup;
  ending: SessionEnding;
  log: DaemonLog;
  /** Policy "list": POSTs this recorder's list to the node for one query's request id. */
  sendList: (request: string, list: { entries: string[]; groups: Record<string, string[]> }) => Promise<void>;
}

/** The trigger handlers over the daemon's parts. */
export function recorderTriggers(p: RecorderTriggerParts): TriggerHandlers {
  const { load, allow, sessions, receiver, pickup, ending, log, sendList } = p;
  return {
    status: () => load.status().state,
    verdict: (t) => {
      const caller = t.ref.caller as { name?: unknown } | undefined;
      return typeof caller?.name === "string" && allow.permits(caller.name) ? "allow" : "deny";
    },
    contact: () => sessions.fetch(),
    list: async (t) => {
      const request = t.ref.request;
      // Only under policy "list" does this recorder hand its list out; otherwise the node gets nothing.
      if (typeof request !== "string" || allow.read().policy !== "list") return;
      const list = allow.snapshot();
      await sendList(request, list);
      log("list-sent", { entries: list.entries.length });
    },
    end: async (t) => {
      const session = String(t.ref.session ?? "");
      const reason = typeof t.ref.reason === "string" ? t.ref.reason : "ended";
      // A revoked store session keeps nothing: the node has dropped its data and the grant must go too.
      if (sessions.keyring.get(session)?.mode === "store" && reason !== "revoked") {
        // The sender ends a store session once the upload is in; the stored item is still to be picked up
        // (perhaps right now) with this grant's key, which goes after the pickup's ack or with the spool TTL.
        log("session-ended", { session, reason, grant: "kept" });
        return;
      }
      ending.endLocally(session, reason);
    },
    data: async (t) => {
      const transfer = t.ref.transfer;
      const session = t.ref.session;
      // A stored item, or an announcement without its ids, is looked up in the inbox instead.
      if (t.ref.kind === "store" || typeof transfer !== "string" || typeof session !== "string") {
        pickup.schedule("data trigger");
        return;
      }
      if (revokedByDeviceList(allow, sessions.keyring.get(session)?.caller.name))
        return ending.revoke(session);
      await receiver.receiveAnnounced(transfer, session);
    },
  };
}
