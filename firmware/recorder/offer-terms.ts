/** @module What an OFFER's meta promises (hash, secrecy, relay leg, protection), checked before any byte is read. */
import type { OfferMessage } from "../direct/direct-message.ts";
import { ReceiveFailure } from "./receive-failure.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** OFFER meta.protection values (docs/protocol.md section 12). */
const OFFER_PROTECTION = ["sealed", "seed", "pattern"] as const;

export interface OfferTerms {
  sha256: string;
  secret: boolean;
  /** The relay transfer carrying the whole (kind relay) or the protected part (kind split), when named. */
  relay?: { transferId: string; stream: unknown };
  /**
   * How the direct part travels (kinds split and data): "sealed" frames only, or a light mode whose DATA frames
   * are clear but authenticated; "seed" when the sender did not say (older senders).
   */
  protection: "sealed" | "seed" | "pattern";
  /** A split's direct part size as sent (pattern header included); the shape a resume must match. */
  directSize?: number;
  /** A resumed send (docs/protocol.md 12.6): the bytes of the original the callee answered HELD with. */
  resume?: { held: number };
}

/**
 * Throws ReceiveFailure with the RECEIPT code. A secret recording offered on anything but the relay is
 * refused here, before the caller can push one clear byte of it.
 */
export function readOfferTerms(offer: OfferMessage): OfferTerms {
  const meta = offer.meta ?? {};
  const sha256 = typeof meta.sha256 === "string" ? meta.sha256 : "";
  if (!SHA256_HEX.test(sha256)) throw new ReceiveFailure("protocol_error", "OFFER without meta.sha256");
  const secret = meta.secret === true;
  if (secret && offer.kind !== "relay") {
    throw new ReceiveFailure(
      "clear_data_refused",
      `Refused a ${offer.kind} OFFER for a secret recording: a secret recording only travels sealed through the node`,
    );
  }
  const relay = meta.relay as { transferId?: unknown; stream?: unknown } | undefined;
  if (offer.kind === "relay" && typeof relay?.transferId !== "string")
    throw new ReceiveFailure("protocol_error", "relay OFFER without meta.relay.transferId");
  const protection = meta.protection ?? "seed";
  if (!(OFFER_PROTECTION as readonly unknown[]).includes(protection))
    throw new ReceiveFailure("protocol_error", `Unknown protection '${String(protection)}' in the OFFER`);
  // Pattern applies only to a split's video; a data OFFER naming it is as malformed as an unknown mode.
  if (protection === "pattern" && offer.kind !== "split")
    throw new ReceiveFailure("protocol_error", `Protection 'pattern' in a ${offer.kind} OFFER`);
  const terms: OfferTerms = { sha256, secret, protection: protection as OfferTerms["protection"] };
  const count = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (meta.directSize !== undefined) {
    if (!count(meta.directSize))
      throw new ReceiveFailure("protocol_error", "OFFER meta.directSize is not a byte count");
    terms.directSize = meta.directSize;
  }
  if (meta.resume !== undefined) {
    const held = (meta.resume as { held?: unknown } | null)?.held;
    if (!count(held) || held > offer.size)
      throw new ReceiveFailure(
        "protocol_error",
        "OFFER meta.resume.held is not a byte offset inside the recording",
      );
    terms.resume = { held };
  }
  if (typeof relay?.transferId === "string")
    terms.relay = { transferId: relay.transferId, stream: relay.stream };
  return terms;
}
