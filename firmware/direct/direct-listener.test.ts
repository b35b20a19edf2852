/** @module listenDirect with the unknown-session gate on real sockets: forged contact tickets are closed at once and never fetch; a real one does. */
import { expect, test } from "bun:test";
import { CONTACT_TICKET_BYTES, contactTicketValid, makeContactTicket } from "../../crypto/contact-ticket.ts";
import { randomBytes, randomToken, toBase64url } from "../../crypto/random-token.ts";
import { rawExchange } from "../../test/support/direct-test-kit.ts";
import { dialDirect } from "./direct-dial.ts";
import { encodePreamble, SALT_BYTES } from "./direct-frame.ts";
import { type DirectLogEvent, listenDirect } from "./direct-listener.ts";
import { SessionTicketStore } from "./session-ticket-store.ts";
import { UnknownSessionGate } from "./unknown-session-gate.ts";

/** A listener whose gate's fetch (the node lookup) is counted and delivers `grants` into the ticket store. */
async function gatedListener(calleeSecret: Uint8Array) {
  const tickets = new SessionTicketStore();
  const grants: Parameters<SessionTicketStore["add"]>[0][] = [];
  const logs: DirectLogEvent[] = [];
  let fetches = 0;
  const gate = new UnknownSessionGate({
    // As the recorder checks it (firmware/recorder/recorder-direct-listener.ts), without the clock skew.
    proven: (sessionId, { connectBy, ticket }) =>
      connectBy >= Date.now() && contactTicketValid(calleeSecret, { sessionId, connectBy }, ticket),
    hasTicket: (id) => tickets.keyFor(id) !== undefined,
    fetch: async () => {
      fetches++;
      for (const g of grants.splice(0)) tickets.add(g);
    },
    waitMs: 50,
  });
  const listener = await listenDirect({
    host: "127.0.0.1",
    port: 0,
    tickets,
    onUnknownSession: (id, source, contact) => gate.resolve(id, source, contact),
    log: (e) => logs.push(e),
    onConnection: (c) => void c.close(),
    handshakeTimeoutMs: 5000,
  });
  return { listener, gate, grants, logs, fetches: () => fetches };
}

test("listenDirect() closes 200 preambles with no or forged contact tickets at once, with zero lookups and no log", async () => {
  const secret = randomBytes(32);
  const k = await gatedListener(secret);
  try {
    // One at a time: the listener's per-address handshake cap (8, issue 21 item 7) is not what this tests.
    const results: { received: number; closedByPeer: boolean }[] = [];
    for (let i = 0; i < 200; i++) {
      const sessionId = `ses_${randomToken(16)}`;
      const salt = randomBytes(SALT_BYTES);
      const forged = [
        undefined,
        { ticket: randomBytes(CONTACT_TICKET_BYTES), connectBy: Date.now() + 60_000 },
        // a real ticket for another session, replayed under this id
        { ticket: makeContactTicket(secret, { sessionId: "ses_other", connectBy: 1 }), connectBy: 1 },
        // a real ticket for this id whose connectBy passed long ago
        { ticket: makeContactTicket(secret, { sessionId, connectBy: 1000 }), connectBy: 1000 },
      ][i % 4];
      const bytes = encodePreamble({ salt, sessionId, ...(forged ? { contact: forged } : {}) });
      results.push(await rawExchange(k.listener.port, bytes, { end: false, timeoutMs: 2000 }));
    }
    expect(results.every((r) => r.closedByPeer && r.received === 0)).toBe(true);
    expect({ fetches: k.fetches(), unproven: k.gate.stats.unproven, logs: k.logs.length }).toEqual({
      fetches: 0,
      unproven: 200,
      logs: 0,
    });
  } finally {
    await k.listener.close();
  }
});

test("listenDirect() lets a caller with the node's contact ticket in: one lookup brings its grant", async () => {
  const secret = randomBytes(32);
  const k = await gatedListener(secret);
  try {
    const grant = {
      sessionId: `ses_${randomToken(16)}`,
      callerId: `dev_${randomToken(9)}`,
      password: randomToken(16),
      key: randomToken(32),
      expiresAt: Date.now() + 3_600_000,
      connectBy: Date.now() + 60_000,
    };
    k.grants.push(grant);
    const ticket = makeContactTicket(secret, { sessionId: grant.sessionId, connectBy: grant.connectBy });
    const conn = await dialDirect({
      host: "127.0.0.1",
      port: k.listener.port,
      sessionId: grant.sessionId,
      password: grant.password,
      key: grant.key,
      callerId: grant.callerId,
      contact: { ticket: toBase64url(ticket), connectBy: grant.connectBy },
    });
    await conn.close();
    expect({ fetches: k.fetches(), unproven: k.gate.stats.unproven }).toEqual({ fetches: 1, unproven: 0 });
  } finally {
    await k.listener.close();
  }
});
