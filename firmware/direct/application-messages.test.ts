/** @module Tests of applicationMessages(): the messages after the handshake pass through, a late handshake message fails the connection. */
import { describe, expect, test } from "bun:test";
import { applicationMessages, type MessageSource } from "./application-messages.ts";
import { DirectChannelError } from "./direct-error.ts";
import type { DirectMessage, WireMessage } from "./direct-message.ts";

/** A source that gives `script` in order, then the peer's orderly close; it records how it was failed. */
function source(script: WireMessage[], end?: Error): MessageSource & { failed: DirectChannelError[] } {
  const queue = [...script];
  const failed: DirectChannelError[] = [];
  return {
    failed,
    async receive() {
      const m = queue.shift();
      if (m === undefined && end) throw end;
      return m;
    },
    fail(err) {
      failed.push(err);
    },
  };
}

async function read(src: MessageSource): Promise<DirectMessage[]> {
  const out: DirectMessage[] = [];
  for await (const m of applicationMessages(src)) out.push(m);
  return out;
}

const APPLICATION: DirectMessage[] = [
  { type: "offer", kind: "data", name: "rec.ts", size: 3 },
  { type: "data", bytes: new Uint8Array([1, 2, 3]) },
  { type: "end", size: 3 },
];

describe("applicationMessages()", () => {
  test("applicationMessages() gives the application's messages in order and ends at the orderly close", async () => {
    const src = source(APPLICATION);
    expect(await read(src)).toEqual(APPLICATION);
    expect(src.failed).toEqual([]);
  });

  const late: Array<[string, WireMessage]> = [
    ["REQUEST", { type: "request", id: "ses_1", password: "p", nonce: "n" }],
    ["ACCEPTED", { type: "accepted", nonce: "n", calleeNonce: "c", expiresAt: 0 }],
    ["DENIED", { type: "denied", code: "busy" }],
    ["CLOSE", { type: "close", reason: "done" }],
  ];
  for (const [name, m] of late) {
    test(`applicationMessages() rejects a ${name} after the handshake and fails the connection with it`, async () => {
      const src = source([APPLICATION[1]!, m, APPLICATION[2]!]);
      const seen: DirectMessage[] = [];
      let thrown: unknown;
      try {
        for await (const x of applicationMessages(src)) seen.push(x);
      } catch (err) {
        thrown = err;
      }
      expect(seen).toEqual([APPLICATION[1]!]);
      expect(thrown).toBeInstanceOf(DirectChannelError);
      expect((thrown as DirectChannelError).code).toBe("ERR_DIRECT_PROTOCOL");
      expect(src.failed).toEqual([thrown as DirectChannelError]);
    });
  }

  test("applicationMessages() passes the connection's own error on", async () => {
    const broken = new DirectChannelError("ERR_DIRECT_TRUNCATED", "Connection ended without CLOSE");
    const src = source([APPLICATION[1]!], broken);
    await expect(read(src)).rejects.toBe(broken);
    expect(src.failed).toEqual([]);
  });
});
