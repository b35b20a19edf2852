/** @module The node's meeting point for hole punching: each session peer's per-session mapping, told only to the other. */
import type { TransportAddress } from "../../protocol/stun-address.ts";

/** The two parties of a session. */
export interface SessionParties {
  readonly callerId: string;
  readonly calleeId: string;
}

/**
 * The two parties of an active session, null when the id names no active session, undefined when this process
 * has not read the session from the store yet (the UDP endpoint then loads it and handles the datagram again).
 */
export type SessionPartiesLookup = (sessionId: string) => SessionParties | null | undefined;

/** What one peer told the node, as the node saw it. */
interface Binding {
  readonly mapped: TransportAddress;
  readonly local: TransportAddress | undefined;
}

interface Meeting {
  readonly bindings: Map<string, Binding>;
  lastTouched: number;
}

/** What the node answers a session binding with (besides the sender's own mapping). */
export interface RendezvousAnswer {
  readonly peer?: TransportAddress;
  readonly peerLocal?: TransportAddress;
}

/** A meeting is forgotten this long after its last binding: punching happens within seconds of the query. */
export const RENDEZVOUS_TTL_MS = 120_000;

export class SessionRendezvous {
  readonly #lookup: SessionPartiesLookup;
  readonly #meetings = new Map<string, Meeting>();
  readonly #ttlMs: number;

  constructor(lookup: SessionPartiesLookup, ttlMs = RENDEZVOUS_TTL_MS) {
    this.#lookup = lookup;
    this.#ttlMs = ttlMs;
  }

  /** Meetings held now (for tests and stats). */
  get size(): number {
    return this.#meetings.size;
  }

  /**
   * Records deviceId's mapping (and LAN address) for sessionId and returns what the peer told, if it has. Returns
   * null when the device is no party to an active session of that id: it learns nothing, not even whether the
   * session exists. The peer's LAN address is handed over only when both mappings share one public address: LAN
   * addresses are ambiguous across homes and private to each home (docs/nat.md).
   */
  bind(
    deviceId: string,
    sessionId: string,
    seen: { mapped: TransportAddress; local?: TransportAddress; now: number },
  ): RendezvousAnswer | null | undefined {
    this.#sweep(seen.now);
    const parties = this.#lookup(sessionId);
    if (!parties) return parties;
    const peerId =
      parties.callerId === deviceId
        ? parties.calleeId
        : parties.calleeId === deviceId
          ? parties.callerId
          : null;
    if (peerId === null || peerId === deviceId) return null;
    let meeting = this.#meetings.get(sessionId);
    if (!meeting) {
      meeting = { bindings: new Map(), lastTouched: seen.now };
      this.#meetings.set(sessionId, meeting);
    }
    meeting.lastTouched = seen.now;
    meeting.bindings.set(deviceId, { mapped: seen.mapped, local: seen.local });
    const peer = meeting.bindings.get(peerId);
    if (!peer) return {};
    const sameRouter = peer.mapped.address === seen.mapped.address;
    return { peer: peer.mapped, ...(sameRouter && peer.local ? { peerLocal: peer.local } : {}) };
  }

  #sweep(now: number): void {
    for (const [id, m] of this.#meetings) {
      if (now - m.lastTouched > this.#ttlMs) this.#meetings.delete(id);
    }
  }
}
