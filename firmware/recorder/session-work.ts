/** @module What the receiver holds for one session: its downloads claimed by id, its split assembly, byte counts, its lease timer. */
import type { DirectPath } from "../../protocol/api-types.ts";
import type { Recording } from "../library/library.ts";
import type { IncomingFile } from "./incoming-file.ts";
import type { PartialKey } from "./partial-receives.ts";
import { ReceiveFailure } from "./receive-failure.ts";
import type { SplitAssembly } from "./split-assembly.ts";

/** setTimeout's longest delay; a later lease end is re-checked when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A lease is looked at a second after its end, so an extension the sender just got has reached the node. */
const LEASE_GRACE_MS = 1000;

export class SessionWork {
  readonly abort = new AbortController();
  split?: { assembly: SplitAssembly; file: IncomingFile; filed: Promise<Recording> };
  /** The split's file being opened (a resumed one reads its prefix back first): a second part waits for it. */
  splitOpening?: Promise<{ assembly: SplitAssembly; file: IncomingFile; filed: Promise<Recording> }>;
  /** Relay transfers claimed in this session, by transfer id: the filed whole recording, or the split's. */
  readonly transfers = new Map<string, Promise<Recording | undefined>>();
  bytesDirect = 0;
  bytesRelay = 0;
  /** A direct connection serves this session (it reports the session's end). */
  direct = false;
  /** Which path that connection came over (issue 15), for the accounting log. */
  directPath: DirectPath | undefined;
  /** What an interrupted receive of this session is kept as (receive-resume.ts), from its OFFER. */
  partial?: { key: PartialKey; name: string };
  /** Checkpoints of the running receive (receive-resume.ts): fsynced length last recorded, one at a time. */
  checkpoint?: { at: number; busy: boolean; written: boolean };
  /** The caller asked RESUME for this key (the OFFER must then match it). */
  resumeAsked?: PartialKey;
  /** The partial a resumed send continues: taken out of the store, opened once by the receive. */
  resumed?: { key: PartialKey; path: string; held: number; opened: boolean };
  /** A live session's lease end as last known (epoch ms): relay downloads wait out a node outage until then. */
  leaseEnd?: number;

  /**
   * A relay transfer can be announced twice (the node's `data` trigger and the OFFER's meta.relay): the first
   * claim starts the download, later ones get the same promise. A failed download may be tried again (next
   * inbox run); a running or filed one is never claimed twice.
   */
  claim(transferId: string, start: () => Promise<Recording | undefined>): Promise<Recording | undefined> {
    const claimed = this.transfers.get(transferId);
    if (claimed) return claimed;
    const p = start();
    this.transfers.set(transferId, p);
    p.catch(() => {
      if (this.transfers.get(transferId) === p) this.transfers.delete(transferId);
    });
    return p;
  }

  /**
   * Work of a live session must not outlive its lease: half of a split whose other half never comes would hold a
   * temp file forever. Shortly after expiresAt, `due` decides (the sender may have extended the lease): it gives
   * a later end to wait for, or ends the work and gives undefined. The timer goes with the work's abort.
   */
  armLease(expiresAt: number, due: () => Promise<number | undefined>): void {
    this.leaseEnd = expiresAt;
    const timer = setTimeout(
      async () => {
        const next = await due();
        if (next !== undefined) this.armLease(next, due);
      },
      Math.max(0, Math.min(expiresAt - Date.now() + LEASE_GRACE_MS, MAX_TIMER_MS)),
    );
    timer.unref?.();
    this.abort.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  /**
   * A failed offer must not be filed later: its relay downloads still running (a secret recording's whole
   * stream, a split's protected part) are stopped and their temp files dropped before the RECEIPT says so.
   */
  async abandon(err: unknown): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.abort.abort(
        err instanceof ReceiveFailure
          ? err
          : new ReceiveFailure("ended", "The offer failed on the direct channel"),
      );
    }
    await Promise.allSettled([...this.transfers.values(), ...(this.split ? [this.split.filed] : [])]);
  }
}
