/** @module The contact ticket: the node's proof, checkable by the callee alone, that it issued a session to a caller for this callee (issue 21 item 6). */
import { deriveKey, HMAC_BYTES, hmacSha256, tagsEqual } from "./hmac.ts";

/** HKDF purpose of the ticket key, derived from the callee's device secret (crypto/hmac.ts deriveKey). */
const CONTACT_TICKET_PURPOSE = "contact-ticket/v1";
/** Domain label in front of the MAC'd fields, so no other pvrlink MAC can stand in for a ticket. */
const CONTACT_TICKET_LABEL = "pvrlink contact ticket v1\0";
/** The ticket is one HMAC-SHA256 tag. */
export const CONTACT_TICKET_BYTES = HMAC_BYTES;
/** connectBy travels as a 64-bit big-endian count of Unix ms. */
const CONNECT_BY_BYTES = 8;

/** What the ticket binds: the session's id and the moment after which it may no longer open a channel. */
export interface ContactTicketFields {
  sessionId: string;
  /** Unix ms, the session's connectBy. */
  connectBy: number;
}

function connectByBytes(connectBy: number): Uint8Array {
  const out = new Uint8Array(CONNECT_BY_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.trunc(connectBy))));
  return out;
}

/**
 * The node's ticket for a session, under a key derived from the CALLEE's device secret: only the node and the
 * callee hold that secret, so the callee can check a ticket before it asks the node anything.
 */
export function makeContactTicket(calleeSecret: Uint8Array, f: ContactTicketFields): Uint8Array {
  return contactTicketTag(contactTicketKey(calleeSecret), f);
}

/** The ticket key of a callee's secret, for a node that issues many tickets to one callee and keeps it. */
export function contactTicketKey(calleeSecret: Uint8Array): Uint8Array {
  return deriveKey(calleeSecret, CONTACT_TICKET_PURPOSE);
}

/** makeContactTicket() under a key already derived by contactTicketKey(). */
export function contactTicketTag(key: Uint8Array, f: ContactTicketFields): Uint8Array {
  return hmacSha256(key, CONTACT_TICKET_LABEL, f.sessionId, "\0", connectByBytes(f.connectBy));
}

/** True only for the node's ticket for exactly these fields; constant time in the tag. */
export function contactTicketValid(
  calleeSecret: Uint8Array,
  f: ContactTicketFields,
  ticket: Uint8Array,
): boolean {
  return tagsEqual(makeContactTicket(calleeSecret, f), ticket);
}
