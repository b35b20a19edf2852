/** @module A connection's messages after its handshake: what the application reads, and a late handshake message refused. */
import { DirectChannelError } from "./direct-error.ts";
import type { DirectMessage, WireMessage } from "./direct-message.ts";

/** What the messages are read from: the connection's ordered messages, and how it is failed. */
export interface MessageSource {
  /** The next message, or undefined after the peer's orderly close; throws the connection's error. */
  receive(): Promise<WireMessage | undefined>;
  fail(err: DirectChannelError): void;
}

/** The application's messages as an async iterator; it ends at the peer's orderly close and throws otherwise. */
export async function* applicationMessages(
  conn: MessageSource,
): AsyncGenerator<DirectMessage, void, undefined> {
  for (;;) {
    const m = await conn.receive();
    if (m === undefined) return;
    if (m.type === "request" || m.type === "accepted" || m.type === "denied" || m.type === "close") {
      const err = new DirectChannelError(
        "ERR_DIRECT_PROTOCOL",
        `Handshake message '${m.type}' after the handshake`,
      );
      conn.fail(err);
      throw err;
    }
    yield m;
  }
}
