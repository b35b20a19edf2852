/** @module The recorder's link to the node wired to the daemon: answers and misses drive registration and pickup, triggers go to dispatch. */

import { keepaliveKey } from "../../protocol/keepalive-request.ts";
import type { HostPort } from "../config/config-value-parsers.ts";
import type { DaemonContext } from "./daemon-context.ts";
import type { InboxPickup } from "./inbox-pickup.ts";
import type { KeepaliveCadence } from "./keepalive-cadence.ts";
import { NodeLink, type NodeLinkEvents } from "./node-link.ts";
import type { Registrar } from "./registrar.ts";
import type { TriggerDispatcher } from "./trigger-dispatcher.ts";

export interface KeepaliveLinkParts {
  node: HostPort;
  /** Further UDP endpoints, moved to after three unanswered keepalives. */
  fallbacks: readonly HostPort[];
  cadence: KeepaliveCadence;
  registrar: Registrar;
  pickup: InboxPickup;
  dispatcher: TriggerDispatcher;
}

/**
 * A new or changed mapping, and the node answering again, re-register (the public address may have moved);
 * the node coming back also looks for stored items; a lost mapping re-registers once answers resume.
 */
function linkEvents(ctx: DaemonContext, p: KeepaliveLinkParts): NodeLinkEvents {
  const { log, changed } = ctx;
  const { cadence, registrar, pickup, dispatcher } = p;
  return {
    answer: (mapped, outcome) => {
      const m = `${mapped.address}:${mapped.port}`;
      if (outcome.first) {
        log("mapping", { mapped: m });
        registrar.request("first keepalive answer");
      } else if (outcome.mappingChanged) {
        log("mapping-changed", { from: outcome.previous, to: m });
        registrar.request("mapping changed");
      } else if (outcome.recovered) {
        log("node-back", { mapped: m });
        registrar.request("node answered again");
        pickup.schedule("node back");
      }
      changed();
    },
    miss: (misses, lost) => {
      log("keepalive-unanswered", { misses, nextMs: cadence.intervalMs });
      if (lost) {
        log("mapping-lost", { misses });
        registrar.request("keepalive answers missing");
      }
      changed();
    },
    trigger: (bytes) => dispatcher.handle(bytes),
    log,
  };
}

/** Opens the UDP socket to the node; keepalives begin only with link.start(). */
export function openKeepaliveLink(ctx: DaemonContext, parts: KeepaliveLinkParts): Promise<NodeLink> {
  return NodeLink.open({
    deviceId: ctx.credential.id,
    stunKey: keepaliveKey(ctx.credential.secretBytes()),
    node: parts.node,
    fallbacks: parts.fallbacks,
    cadence: parts.cadence,
    announcedIntervalSec: ctx.config.keepaliveSeconds,
    events: linkEvents(ctx, parts),
  });
}
