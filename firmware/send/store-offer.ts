/** @module The node's store offer as a busy answer carries it (seed A S2611): read once, at the client boundary. */
import type { StoreOfferAnswer } from "../../protocol/api-types.ts";
import type { ControlApiError } from "../../protocol/control-api-error.ts";

/**
 * The offer in a 409 callee_busy. A node from before the offer existed sends none: it always stored on request,
 * so that reads as offered.
 */
export function storeOfferOf(err: ControlApiError): StoreOfferAnswer {
  const s = err.details.store as Partial<StoreOfferAnswer> | undefined;
  if (s === undefined || typeof s !== "object" || s === null) return { offered: true };
  if (s.offered === false) {
    return {
      offered: false,
      reason: typeof s.reason === "string" ? s.reason : "store_refused",
      message: typeof s.message === "string" ? s.message : "the node cannot store it",
    };
  }
  return { offered: true };
}
