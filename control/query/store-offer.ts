/** @module The node's store offer (seed A embodiment 3, S2611-S2615): whether a busy callee's data may be stored, and if not, why. */
import { ApiError } from "../errors/api-error.ts";
import { SpoolCapacity } from "../spool/spool-capacity.ts";
import type { SpoolStore } from "../spool/spool-store.ts";

/**
 * What a busy answer tells the caller about storing (the seed's "transfer ask query", S2611): offered, or the
 * stable reason the node cannot store: `transfer_too_large` (S2202's size threshold), `quota_exceeded` (the
 * caller's spool quota), `spool_full` / `insufficient_storage` (node-wide). The codes are the ones the relay
 * itself answers when a transfer is created, so the offer and the later upload agree.
 */
export type StoreOffer =
  | { offered: true; quotaLeft: number; threshold: number }
  | { offered: false; reason: string; message: string };

export interface StoreOfferPolicyOptions {
  /** Largest transfer the relay accepts (relayThresholdBytes). */
  thresholdBytes: number;
  /** Per sending device (relayQuotaBytes). */
  quotaBytes: number;
  capBytes: number;
  reserveBytes: number;
  freeBytes?: () => number;
}

/** Decides the offer from the same numbers create-transfer enforces, before any byte is sent. */
export class StoreOfferPolicy {
  readonly #spool: SpoolStore;
  readonly #capacity: SpoolCapacity;
  readonly #o: StoreOfferPolicyOptions;

  constructor(spool: SpoolStore, o: StoreOfferPolicyOptions) {
    this.#spool = spool;
    this.#capacity = new SpoolCapacity(spool, {
      capBytes: o.capBytes,
      reserveBytes: o.reserveBytes,
      ...(o.freeBytes ? { freeBytes: o.freeBytes } : {}),
    });
    this.#o = o;
  }

  /** size: the bytes the caller means to send (the query's `size`); without it only quota and space are checked. */
  async offer(callerId: string, size: number | undefined, now: number = Date.now()): Promise<StoreOffer> {
    const { thresholdBytes, quotaBytes } = this.#o;
    if (size !== undefined && size > thresholdBytes) {
      return refuse("transfer_too_large", `${size} bytes exceed the node's threshold of ${thresholdBytes}`);
    }
    const quotaLeft = Math.max(0, quotaBytes - (await this.#spool.reservedBy(callerId, now)));
    if (quotaLeft === 0 || (size !== undefined && size > quotaLeft)) {
      return refuse("quota_exceeded", `your spool quota has ${quotaLeft} of ${quotaBytes} bytes left`);
    }
    try {
      await this.#capacity.admitTransfer(size ?? 1, now);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return refuse(err.code, err.message);
    }
    return { offered: true, quotaLeft, threshold: thresholdBytes };
  }
}

function refuse(reason: string, why: string): StoreOffer {
  return { offered: false, reason, message: `the node cannot store it: ${why}` };
}
