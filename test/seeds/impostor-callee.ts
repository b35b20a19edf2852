/** @module A recorder impersonating a callee, as a process: it listens with the real direct listener and a ticket that lacks (or forges) the callee's one-time password. */
/*
 *   IMPOSTOR_TICKET='{"sessionId","callerId","password","key","expiresAt","connectBy","calleePassword"?}' bun impostor-callee.ts
 *   prints "listening PORT", then "log CODE DETAIL" per listener event, "got TYPE" per message a caller sends
 *   after the handshake, and "closed CODE" when that connection ends.
 */
import { listenDirect } from "../../firmware/direct/direct-listener.ts";
import { SessionTicketStore, type TicketInput } from "../../firmware/direct/session-ticket-store.ts";

const tickets = new SessionTicketStore();
tickets.add(JSON.parse(process.env.IMPOSTOR_TICKET ?? "{}") as TicketInput);
const listener = await listenDirect({
  host: "127.0.0.1",
  port: 0,
  tickets,
  log: (e) => console.log(`log ${e.code} ${e.detail ?? ""}`),
  onConnection: (conn) => {
    void (async () => {
      try {
        for await (const m of conn.messages()) console.log(`got ${m.type}`);
        console.log("closed done");
      } catch (err) {
        console.log(`closed ${(err as { code?: string }).code ?? "error"}`);
      }
    })();
  },
});
console.log(`listening ${listener.port}`);
process.on("SIGTERM", () => void listener.close().then(() => process.exit(0)));
