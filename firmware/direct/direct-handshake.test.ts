/** @module The direct channel handshake: who is accepted, who is denied or dropped without a word, and what is never logged. */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { fromBase64url, randomBytes, randomToken } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { dialOptions, rawExchange, startKit, startProxy } from "../../test/support/direct-test-kit.ts";
import { deriveConnectionKey } from "./connection-key.ts";
import { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import type { DirectChannelError } from "./direct-error.ts";
import { decodePreamble } from "./direct-frame.ts";
import type { DirectMessage } from "./direct-message.ts";

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as DirectChannelError).code;
  }
}

describe("direct channel handshake", () => {
  test("accepts the right caller, then carries OFFER, DATA, END and a RECEIPT both ways", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    expect(callee.peerId).toBe(t.callerId);
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const received = (async () => {
      const msgs: DirectMessage[] = [];
      for await (const m of callee.messages()) {
        msgs.push(m.type === "data" ? { type: "data", bytes: new Uint8Array(m.bytes) } : m);
        if (m.type === "end") await callee.send({ type: "receipt", ok: true, bytes: callee.bytesReceived });
      }
      return msgs;
    })();
    await caller.send({ type: "offer", kind: "recording", size: payload.length, name: "rec.ts" });
    await caller.sendData(payload);
    await caller.send({ type: "end", size: payload.length });
    const reply = await caller.receive();
    expect(reply).toEqual({ type: "receipt", ok: true, bytes: payload.length });
    await caller.close();
    const msgs = await received;
    expect(msgs[0]).toEqual({ type: "offer", kind: "recording", size: payload.length, name: "rec.ts" });
    const data = msgs.filter((m) => m.type === "data").map((m) => (m as { bytes: Uint8Array }).bytes);
    expect(data.map((d) => d.length)).toEqual([1048576, 1048576, 1048576, 17]);
    expect(Buffer.concat(data).equals(Buffer.from(payload))).toBe(true);
    expect([caller.bytesSent, callee.bytesReceived]).toEqual([payload.length, payload.length]);
    expect(await callee.closed).toBeUndefined();
    expect(kit.logs.map((l) => l.code)).toEqual(["DIRECT_ACCEPTED"]);
  });

  test("denies a wrong password with a sealed DENIED", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const err = await dialDirect({ ...dialOptions(kit.listener.port, t), password: randomToken(16) }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "wrong_password" });
  });

  test("denies a second use of the password", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const first = await dialDirect(dialOptions(kit.listener.port, t));
    await first.close();
    const err = await dialDirect(dialOptions(kit.listener.port, t)).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "password_used" });
  });

  test("denies a replay of a recorded REQUEST, byte for byte", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const proxy = await startProxy({ host: "127.0.0.1", port: kit.listener.port });
    try {
      const c = await dialDirect(dialOptions(proxy.port, t));
      await c.close();
    } finally {
      await proxy.close();
    }
    // The preamble and the REQUEST frame: what the caller sent before ACCEPTED. Its later frames were sealed
    // under that connection's forward-secret key, which no replay can bring back.
    const recorded = Buffer.concat(proxy.recorded);
    const preamble = decodePreamble(recorded)!.length;
    const replay = recorded.subarray(0, preamble + 4 + recorded.readUInt32BE(preamble));
    const r = await rawExchange(kit.listener.port, replay, { end: false });
    expect(r.closedByPeer).toBe(true);
    expect(r.received).toBeGreaterThan(0); // the sealed DENIED
    await waitFor("the listener to log DIRECT_DENIED", () =>
      kit.logs.some((l) => l.code === "DIRECT_DENIED"),
    );
    expect(kit.logs.find((l) => l.code === "DIRECT_DENIED")?.detail).toBe("password_used");
    expect(kit.accepted.length).toBe(1);
  });

  test("denies a caller whose connect window has closed", async () => {
    await using kit = await startKit();
    const t = kit.ticket({ connectBy: Date.now() - 1 });
    const err = await dialDirect(dialOptions(kit.listener.port, t)).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "connect_window_closed" });
  });

  test("closes on a wrong key without a word, and the real caller can still connect", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const code = await codeOf(
      dialDirect({ ...dialOptions(kit.listener.port, t), key: randomToken(32), timeoutMs: 3000 }),
    );
    expect(code).toBe("ERR_DIRECT_TRUNCATED");
    await waitFor("the listener to log ERR_DIRECT_AUTH", () =>
      kit.logs.some((l) => l.code === "ERR_DIRECT_AUTH"),
    );
    const ok = await dialDirect(dialOptions(kit.listener.port, t));
    await ok.close();
  });

  test("closes on an unknown session id and logs it", async () => {
    await using kit = await startKit();
    const t = { sessionId: "unknown1", password: "p", key: randomToken(32), callerId: "dev_nobody01" };
    expect(await codeOf(dialDirect(dialOptions(kit.listener.port, t)))).toBe("ERR_DIRECT_TRUNCATED");
    await waitFor("the listener to log ERR_DIRECT_UNKNOWN_SESSION", () =>
      kit.logs.some((l) => l.code === "ERR_DIRECT_UNKNOWN_SESSION"),
    );
  });

  test("the caller refuses a callee that does not echo its nonce, before sending anything else", async () => {
    // A fake callee that holds the key but answers with a fresh nonce instead of the caller's.
    const key = randomToken(32);
    let seenAfterRequest = 0;
    const server = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", async (first: Uint8Array) => {
        socket.pause();
        const p = decodePreamble(first)!;
        const conn = new DirectConnection({
          socket,
          key: await deriveConnectionKey(fromBase64url(key), p.preamble.salt),
          sessionId: p.preamble.sessionId,
          role: "callee",
          remote: "test",
          initial: [first.subarray(p.length)],
        });
        await conn.receive();
        await conn.send({
          type: "accepted",
          nonce: randomToken(16),
          calleeNonce: "x",
          expiresAt: Date.now() + 60_000,
        });
        try {
          while (await conn.receive()) seenAfterRequest++;
        } catch {
          // the caller hangs up
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const t = { sessionId: "fake1", password: "p", key, callerId: "dev_caller01" };
      expect(await codeOf(dialDirect(dialOptions(port, t)))).toBe("ERR_DIRECT_PEER_UNVERIFIED");
      expect(seenAfterRequest).toBe(0);
    } finally {
      server.close();
    }
  });

  test("never logs the password or the key", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    await dialDirect({ ...dialOptions(kit.listener.port, t), password: "wrong-pw" }).catch(() => {});
    await dialDirect({ ...dialOptions(kit.listener.port, t), key: randomToken(32) }).catch(() => {});
    const text = JSON.stringify(kit.logs);
    for (const secret of [t.password, t.key, "wrong-pw"]) expect(text).not.toContain(secret);
  });
});
