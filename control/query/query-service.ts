/** @module QUERY (seed A FIG. 12 S1201-S1211 with FIG. 16 S1606-S1608; seed B FIG. 3 -> FIG. 4A/4B): the ordered checks that gate an address, then the session. */
import { connect, isIP } from "node:net";
import { contactTicketKey, contactTicketTag } from "../../crypto/contact-ticket.ts";
import { DerivedKeys } from "../../crypto/derived-keys.ts";
import { toBase64url } from "../../crypto/random-token.ts";
import type { PeerInfo, QueryResponse, QueryStoreResponse, SessionGrant } from "../../protocol/api-types.ts";
import { ApiError } from "../errors/api-error.ts";
import type { AllowListStore } from "../store/allow-list-store.ts";
import type { DeviceRow, DeviceStore, Registration } from "../store/device-store.ts";
import type { KeepaliveLookup } from "../store/keepalive-table.ts";
import type { SessionStore } from "../store/session-store.ts";
import type { QueryRetry } from "../store/superseded-sessions.ts";
import { type DeviceListRequests, listPermits } from "./device-list-requests.ts";
import { type ResolveOptions, resolveCalleeHost } from "./host-resolution.ts";
import type { StoreOfferPolicy } from "./store-offer.ts";
import type { TriggerPort } from "./trigger-port.ts";

export interface QueryDeps {
  devices: DeviceStore;
  allow: AllowListStore;
  keepalives: KeepaliveLookup;
  sessions: SessionStore;
  triggers: TriggerPort;
  triggerDeadlineMs: number;
  /** When set, "connected" also needs a TCP connect to the registered address:port (seed A S1901-S1902). */
  tcpProbe: ((address: string, port: number) => Promise<boolean>) | null;
  /** How long a store-mode grant waits for the busy callee (the spool's expiry). */
  storeDeliverWithinSec: number;
  /** permission_denied answers wait until this long after the query began (ControlConfig.refusalDeadlineMs). */
  refusalDeadlineMs?: number;
  /** A device's published identity key, handed to the other peer of its sessions. */
  identityKeyOf?: (deviceId: string) => Promise<string | undefined>;
  /** Whether a busy callee's data may be stored (seed A S2611); without it the node always offers. */
  storeOffer?: StoreOfferPolicy | null;
  /** Resolution of a callee registered by host name (seed A variation 3); without it such a callee is not connected. */
  hostResolution?: ResolveOptions | null;
  /** Policy "list" (seed B embodiment 1): the callee's list, asked for this one query. */
  lists?: DeviceListRequests | null;
  log: (msg: string) => void;
}

/** What the caller asks beside the callee's name: store if busy, and the size it means to send (for the offer). */
export interface QueryAsk {
  storeIfBusy: boolean;
  size?: number | undefined;
  /** The caller's idempotency key: a retry of the same QUERY supersedes the session an earlier attempt got. */
  idempotencyKey?: string | null | undefined;
}

export type QueryOutcome = { status: 200; body: QueryResponse } | { status: 202; body: QueryStoreResponse };

/** A TCP connect probe with a timeout; true when the handshake completes. */
export function tcpConnectProbe(timeoutMs: number): (address: string, port: number) => Promise<boolean> {
  return (address, port) =>
    new Promise((resolve) => {
      const sock = connect({ host: address, port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      sock.once("connect", () => done(true));
      sock.once("error", () => done(false));
    });
}

/** Contact-ticket keys kept (one per callee); past this the memory starts over. */
const MAX_TICKET_KEYS = 100_000;

export class QueryService {
  /** Each callee's contact-ticket key, derived once per secret (crypto/derived-keys.ts). */
  readonly #ticketKeys = new DerivedKeys(contactTicketKey, MAX_TICKET_KEYS);

  constructor(private readonly d: QueryDeps) {}

  async #ticketKey(calleeId: string): Promise<Uint8Array | null> {
    const secret = await this.d.devices.secretOf(calleeId);
    if (secret === null) {
      this.#ticketKeys.forget(calleeId);
      return null;
    }
    return this.#ticketKeys.of(calleeId, secret);
  }

  /**
   * A peer as another peer sees it: registered address plus the NAT mapping of its latest keepalive. `known`
   * holds the device row and registration a caller has just read, so they are not read again.
   */
  async peerInfo(deviceId: string, known?: { dev: DeviceRow; reg: Registration }): Promise<PeerInfo> {
    const [dev, reg, ka] = await Promise.all([
      known?.dev ?? this.d.devices.byId(deviceId),
      known?.reg ?? this.d.devices.registration(deviceId),
      this.d.keepalives.get(deviceId),
    ]);
    // A registration by host name is resolved only for a permitted caller's query answer (query() below).
    const byName = reg !== null && isIP(reg.address) === 0;
    const info: PeerInfo = {
      id: deviceId,
      name: dev?.name ?? "(deleted)",
      address: byName ? null : (reg?.address ?? null),
      port: reg?.port ?? null,
    };
    if (ka) info.mapped = { address: ka.address, port: ka.port };
    const publicKey = await this.d.identityKeyOf?.(deviceId);
    if (publicKey !== undefined) info.publicKey = publicKey;
    if (byName) info.host = reg.address;
    return info;
  }

  async #storeCallee(callee: { id: string; name: string }): Promise<QueryStoreResponse["callee"]> {
    const publicKey = await this.d.identityKeyOf?.(callee.id);
    return publicKey === undefined ? { id: callee.id, name: callee.name } : { ...callee, publicKey };
  }

  /**
   * The checks, in the contract's order. An unpermitted caller always gets permission_denied, also for a
   * name nobody has, and under policy "device" also when the callee does not answer its verdict trigger:
   * until permission is established, every answer is the same, so the response says nothing about
   * existence, registration or presence. Only a permitted caller can tell the later refusals apart.
   */
  async query(callerId: string, calleeName: string, ask: QueryAsk): Promise<QueryOutcome> {
    const startedAt = performance.now();
    // Taken on arrival, before any trigger wait: attempts of one QUERY are ordered by when they reached a node.
    const retry: QueryRetry | null = ask.idempotencyKey
      ? { key: ask.idempotencyKey, queryAt: Date.now() }
      : null;
    const [caller, callee] = await Promise.all([
      this.d.devices.byId(callerId),
      this.d.devices.byName(calleeName),
    ]);
    if (!caller) throw new ApiError(401, "unknown_device", "Unknown device");
    const refusalMs = this.d.refusalDeadlineMs ?? 0;
    // By construction, not by measurement: every refusal leaves at the same moment after the query arrived,
    // so its timing cannot tell an absent name from an offline, online or node-policy callee.
    const denied = async (): Promise<ApiError> => {
      const wait = startedAt + refusalMs - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      return new ApiError(403, "permission_denied", "Permission denied");
    };
    if (!callee) throw await denied();

    // 1. Permission (seed A S1202-S1203; seed B embodiment 2: the callee's own verdict; embodiment 1: the list
    // the callee sends for this query, judged here and dropped).
    const policy = callee.policy;
    if (policy === "node") {
      if (!(await this.d.allow.permits(callee.id, caller.name))) throw await denied();
    } else if (policy === "list") {
      const list = this.d.lists ? await this.d.lists.ask(callee.id, this.d.triggerDeadlineMs) : null;
      if (list === null || !listPermits(list, caller.name)) throw await denied();
    } else {
      const verdict = await this.d.triggers.trigger(
        callee.id,
        "verdict",
        { caller: { id: caller.id, name: caller.name } },
        // A verdict later than the refusal deadline is a refusal: it must not stretch the refusal's time.
        {
          deadlineMs:
            refusalMs > 0 ? Math.min(this.d.triggerDeadlineMs, refusalMs) : this.d.triggerDeadlineMs,
        },
      );
      if (verdict?.answer !== "allow") throw await denied();
    }

    // 2. Registered (seed A S1204-S1205, FIG. 5 (g)).
    const reg = await this.d.devices.registration(callee.id);
    if (!reg)
      throw new ApiError(404, "callee_not_found", `Callee '${callee.name}' has not registered an address`);

    // 3. Connected: a fresh keepalive, optionally a TCP connect (seed A S1901-S1902).
    // Seed A variation 3: a host name is resolved now, for this permitted caller; a name that does not resolve,
    // or resolves only to addresses the node must not hand out or connect to (SSRF), is not connected.
    let address: string | null = reg.address;
    if (isIP(address) === 0) {
      address = this.d.hostResolution ? await resolveCalleeHost(address, this.d.hostResolution) : null;
    }
    const connected =
      address !== null &&
      (await this.d.keepalives.isConnected(callee.id)) &&
      (!this.d.tcpProbe || (await this.d.tcpProbe(address, reg.port)));

    // The callee's peer record (handed out only with a grant, below) is read while its status trigger is out.
    const peer = connected ? this.peerInfo(callee.id, { dev: callee, reg }) : null;
    peer?.catch(() => {}); // awaited below when there is a grant; a refusal must not leave it unhandled
    // 4. STATUS through the trigger path (seed A S1606-S1608, FIG. 17); no answer in time = not connected.
    const status = connected
      ? await this.d.triggers.trigger(callee.id, "status", {}, { deadlineMs: this.d.triggerDeadlineMs })
      : null;
    // Issue 19 item 7: a caller that asked to store gets the spool for a callee whose box is off too (the
    // callee's daemon fetches the store grant and picks the data up when it comes back), as for a busy one.
    if (status === null || address === null) {
      if (!ask.storeIfBusy)
        throw new ApiError(409, "callee_not_connected", `Callee '${callee.name}' is not connected`);
      return this.#storeSession({ callerId: caller.id, callee, retry }, "callee_not_connected");
    }
    if (status.answer !== "acceptable") {
      // Seed A S2611: the busy answer carries the node's store offer, or why it cannot store (quota, threshold).
      const store = (await this.d.storeOffer?.offer(caller.id, ask.size)) ?? { offered: true };
      if (!ask.storeIfBusy || !store.offered) {
        const why = store.offered ? "" : `; ${store.message}`;
        throw new ApiError(409, "callee_busy", `Callee '${callee.name}' is busy${why}`, {
          details: { store },
        });
      }
      // Seed A S2613-S2617: the caller accepted the offer; the spool takes the data.
      return this.#storeSession({ callerId: caller.id, callee, retry }, "callee_busy");
    }

    // Seed A S1207-S1210 / seed B FIG. 4A-4B: issue, answer the caller, then tell the callee to fetch its copy.
    const issued = await this.#issue({ callerId: caller.id, callee, retry }, "live", 0);
    const ticketKey = await this.#ticketKey(callee.id);
    const grant =
      ticketKey === null
        ? issued
        : {
            ...issued,
            contactTicket: toBase64url(
              contactTicketTag(ticketKey, { sessionId: issued.id, connectBy: issued.connectBy }),
            ),
          };
    this.d.log(`query: live session ${grant.id} ${caller.id} -> ${callee.id}`);
    void this.d.triggers
      .trigger(callee.id, "contact", { session: grant.id }, { deadlineMs: this.d.triggerDeadlineMs })
      .catch((err: unknown) =>
        this.d.log(`contact trigger for ${grant.id} failed: ${(err as Error).message}`),
      );
    return {
      status: 200,
      body: { session: grant, callee: { ...(await peer!), address } },
    };
  }

  /** Issues the session, superseding the one an earlier attempt of the same QUERY got (logged). */
  async #issue(
    who: { callerId: string; callee: { id: string }; retry: QueryRetry | null },
    mode: "live" | "store",
    deliverWithinSec: number,
  ): Promise<SessionGrant> {
    const { grant, superseded } = await this.d.sessions.issueOnce({
      callerId: who.callerId,
      calleeId: who.callee.id,
      mode,
      deliverWithinSec,
      retry: who.retry,
    });
    for (const id of superseded)
      this.d.log(`query: session ${id} superseded by ${grant.id} (a retried query)`);
    return grant;
  }

  /** A store-mode grant: the caller uploads to the spool, the callee picks it up when it can. */
  async #storeSession(
    who: { callerId: string; callee: { id: string; name: string }; retry: QueryRetry | null },
    code: QueryStoreResponse["code"],
  ): Promise<QueryOutcome> {
    const { callerId, callee } = who;
    const grant = await this.#issue(who, "store", this.d.storeDeliverWithinSec);
    this.d.log(`query: store session ${grant.id} ${callerId} -> ${callee.id} (${code})`);
    return { status: 202, body: { code, session: grant, callee: await this.#storeCallee(callee) } };
  }
}
