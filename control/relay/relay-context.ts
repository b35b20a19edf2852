/** @module The relay's shared state over one request: its dependencies, the spool, uploads in progress, expiry sweep, participant checks. */
import { ApiError } from "../errors/api-error.ts";
import { abandonedTransfers } from "../spool/abandoned-transfers.ts";
import { SpoolCapacity } from "../spool/spool-capacity.ts";
import type { SpoolEntry, SpoolStore } from "../spool/spool-store.ts";
import { GrowthWaiters } from "./growth-waiters.ts";

/** The session as the relay needs it; supplied by the session store. */
export interface RelaySession {
  id: string;
  callerId: string;
  calleeId: string;
  mode: "live" | "store";
  state: "active" | "ended";
  /** Ended by the node because a peer lost its permission: its transfers are refused and dropped. */
  revoked?: boolean;
}

export interface RelayDeps {
  /** The spool: its index in the node's store, its bytes on the filesystem or S3 (control/spool). */
  spool: SpoolStore;
  /** Largest transfer accepted (413 transfer_too_large above it). */
  thresholdBytes: number;
  /** Per sending device: declared bytes of its transfers still on the node (507 quota_exceeded above it). */
  quotaBytes: number;
  /** Lifetime of a transfer from its creation; expired entries are invisible and swept. */
  ttlSec: number;
  /** Node-wide spool cap and free-space reserve (control/spool/spool-capacity.ts); unbounded when absent. */
  capacity?: { capBytes: number; reserveBytes: number; freeBytes?: () => number };
  getSession(sessionId: string): Promise<RelaySession | null>;
  /** Fire-and-forget trigger to the recipient. */
  notify(deviceId: string, kind: "data", ref: Record<string, unknown>): void;
  /** Accounting: bytes durably received for a session. */
  onBytes(sessionId: string, bytes: number): void;
  /** Optional: the sender's name for inbox entries (null if unknown). */
  deviceName?: (deviceId: string) => Promise<string | null>;
  /** Optional tuning, for tests: idle end of a live download; how often a follower polls the index. */
  followIdleMs?: number;
  followPollMs?: number;
  log?: (msg: string) => void;
  now?: () => number;
}

/** Hono environment of the relay routes: the device auth middleware sets the caller's device id. */
export type RelayEnv = { Variables: { deviceId: string } };

/** Which side of a transfer may do something: its sender (the caller), its recipient (the callee), or either. */
export type TransferRole = "sender" | "recipient" | "either";

/** Expired entries are swept at most this often, on the back of requests. */
const SWEEP_EVERY_MS = 5000;

const ROLE_NAMES: Record<TransferRole, string> = { sender: "caller", recipient: "callee", either: "peers" };

/** Everything the route handlers share; built once per mounted router. */
export class RelayContext {
  readonly deps: RelayDeps;
  readonly store: SpoolStore;
  readonly log: (msg: string) => void;
  readonly now: () => number;
  /** Uploads in progress in this process, with bytes written so far (not yet durable) for live followers. */
  readonly uploading = new Map<string, { written: number }>();
  readonly waiters = new GrowthWaiters();
  /** The node-wide cap and free-space reserve, checked before any byte is written; null when unbounded. */
  readonly capacity: SpoolCapacity | null;
  /** Reconciliation of index and backend at start; requests wait for it. */
  readonly ready: Promise<void>;
  /** Reconciliation and the first sweep, settled (never rejects): what a node that fails to start waits for. */
  readonly started: Promise<void>;
  #lastSweep = 0;

  /** Opens the relay over the spool and brings it into agreement with what the last run left. */
  constructor(deps: RelayDeps) {
    this.deps = deps;
    this.log = deps.log ?? (() => {});
    this.now = deps.now ?? Date.now;
    this.store = deps.spool;
    this.capacity = deps.capacity ? new SpoolCapacity(deps.spool, deps.capacity) : null;
    this.ready = this.store.recover().then(
      (recovered) => {
        if (recovered.orphans || recovered.shortened) {
          this.log(`spool: removed ${recovered.orphans} orphans, shortened ${recovered.shortened} entries`);
        }
      },
      (err: unknown) => this.log(`spool: reconciliation failed: ${(err as Error).message}`),
    );
    this.started = this.ready
      .then(() => this.sweep())
      .catch((err: unknown) => this.log(`spool: sweep failed: ${(err as Error).message}`));
  }

  /** Deletes expired entries (not those being uploaded), at most every SWEEP_EVERY_MS; wakes their followers. */
  async sweep(): Promise<void> {
    const t = this.now();
    if (t - this.#lastSweep < SWEEP_EVERY_MS) return;
    this.#lastSweep = t;
    for (const id of await this.store.sweepExpired(t, new Set(this.uploading.keys()))) {
      this.log(`spool: ${id} expired`);
      this.waiters.wake(id);
    }
    const incomplete = await this.store.incomplete(t);
    const ended = new Set<string>();
    for (const sessionId of new Set(incomplete.map((e) => e.sessionId))) {
      if ((await this.deps.getSession(sessionId))?.state !== "active") ended.add(sessionId);
    }
    const sessionActive = (sessionId: string) => !ended.has(sessionId);
    const busy = new Set(this.uploading.keys());
    for (const id of abandonedTransfers(incomplete, { sessionActive, busy })) {
      await this.store.remove(id);
      this.log(`spool: ${id} abandoned (incomplete, session over); its reservation is freed`);
      this.waiters.wake(id);
    }
  }

  /**
   * The live entry if `deviceId` plays `role` in it; 404 when absent or expired, 403 for anyone else, 409
   * transfer_elsewhere when its bytes are on another node's filesystem spool.
   */
  async entryFor(id: string, deviceId: string, role: TransferRole): Promise<SpoolEntry> {
    const first = await this.store.get(id, this.now());
    const session = first && (await this.deps.getSession(first.sessionId));
    // Read again after the wait, so the caller acts on the entry as it is now.
    const e = first && (await this.store.get(id, this.now()));
    const revoked = e !== null && session?.revoked === true;
    if (e && revoked) {
      // Issue 21 item 3: a revoked session's data goes, whoever asks, and frees its quota at once.
      await this.store.remove(id);
      this.waiters.wake(id);
      this.log(`spool: ${id} dropped (session revoked)`);
    }
    if (!e || revoked)
      throw new ApiError(404, "transfer_not_found", "No such transfer (or it expired or was acknowledged)");
    const isSender = e.senderId === deviceId;
    const isRecipient = e.recipientId === deviceId;
    const ok = role === "sender" ? isSender : role === "recipient" ? isRecipient : isSender || isRecipient;
    if (!ok) throw new ApiError(403, "not_participant", `Only the session's ${ROLE_NAMES[role]} may do this`);
    if (role !== "either" && !this.store.holds(e)) {
      throw new ApiError(409, "transfer_elsewhere", "Transfer is held by another node's filesystem spool", {
        details: { location: e.location },
      });
    }
    return e;
  }

  /** 409 upload_in_progress while this process is writing the transfer; the message says what was refused. */
  refuseWhileUploading(id: string, message: string): void {
    if (this.uploading.has(id)) throw new ApiError(409, "upload_in_progress", message);
  }
}
