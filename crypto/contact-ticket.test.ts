/** @module Tests for the contact ticket: only the node's ticket for exactly this session, connectBy and callee opens the callee's door. */
import { describe, expect, test } from "bun:test";
import {
  CONTACT_TICKET_BYTES,
  contactTicketKey,
  contactTicketTag,
  contactTicketValid,
  makeContactTicket,
} from "./contact-ticket.ts";

const secret = new Uint8Array(32).fill(7);
const other = new Uint8Array(32).fill(8);
const fields = { sessionId: "ses_abc", connectBy: 1_800_000_000_000 };
const ticket = makeContactTicket(secret, fields);

describe("contact ticket", () => {
  test("makeContactTicket() is one HMAC-SHA256 tag, the same for the same fields", () => {
    expect(ticket.byteLength).toBe(CONTACT_TICKET_BYTES);
    expect(makeContactTicket(secret, { ...fields })).toEqual(ticket);
  });
  test("contactTicketTag() under contactTicketKey() is makeContactTicket(), and another callee's key differs", () => {
    expect(contactTicketTag(contactTicketKey(secret), fields)).toEqual(ticket);
    expect(contactTicketTag(contactTicketKey(other), fields)).not.toEqual(ticket);
  });
  const cases: Array<[string, Uint8Array, typeof fields, Uint8Array, boolean]> = [
    ["accepts the node's ticket", secret, fields, ticket, true],
    ["rejects another session's id", secret, { ...fields, sessionId: "ses_abd" }, ticket, false],
    ["rejects a moved connectBy", secret, { ...fields, connectBy: fields.connectBy + 1 }, ticket, false],
    ["rejects another callee's secret", other, fields, ticket, false],
    ["rejects a truncated ticket", secret, fields, ticket.subarray(0, 31), false],
    ["rejects an empty ticket", secret, fields, new Uint8Array(0), false],
    ["rejects a zero ticket", secret, fields, new Uint8Array(CONTACT_TICKET_BYTES), false],
  ];
  for (const [what, key, f, t, want] of cases) {
    test(`contactTicketValid() ${what}`, () => expect(contactTicketValid(key, f, t)).toBe(want));
  }
  test("contactTicketValid() does not take a session id that only moves bytes into connectBy", () => {
    // The NUL after the id keeps "ses_a" + connectBy from being read as "ses_a\0..." with another connectBy.
    const shifted = { sessionId: "ses_ab", connectBy: fields.connectBy };
    expect(contactTicketValid(secret, shifted, ticket)).toBe(false);
  });
});
