/** @module One spool transfer as the index holds it (control/spool/spool-store.ts). */

export type TransferKind = "relay" | "store";

/** One spool entry. `received` counts bytes durable on the spool's backend and acknowledged. */
export interface SpoolEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly kind: TransferKind;
  readonly size: number;
  readonly received: number;
  readonly complete: boolean;
  readonly label: string | null;
  readonly sha256: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Where its bytes are (SpoolBlobs.location); '' for a row from before locations, held by the one node. */
  readonly location: string;
}
