/** @module The direct channel's forward secrecy: after ACCEPTED, frames are sealed under a key from a per-connection X25519 agreement, which the session key and the salt alone cannot rebuild. */
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { fromBase64url, randomToken } from "../../crypto/random-token.ts";
import { dialOptions, framed, startKit, startProxy } from "../../test/support/direct-test-kit.ts";
import { deriveConnectionKey } from "./connection-key.ts";
import { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import { decodePreamble, encodePreamble } from "./direct-frame.ts";
import { decodeMessage } from "./direct-message.ts";
import { FrameCipher } from "./frame-cipher.ts";

describe("direct channel forward secrecy", () => {
  test("the session key and the salt open the REQUEST but no frame after ACCEPTED", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const frames: Uint8Array[] = [];
    const proxy = await startProxy({ host: "127.0.0.1", port: kit.listener.port }, (_, sealed) => {
      frames.push(new Uint8Array(sealed));
      return [framed(sealed)];
    });
    try {
      const caller = await dialDirect(dialOptions(proxy.port, t));
      const callee = await kit.nextAccepted();
      await caller.send({ type: "offer", kind: "recording", size: 5, name: "later.ts" });
      expect(await callee.receive()).toMatchObject({ type: "offer", name: "later.ts" });
      await caller.close();
    } finally {
      await proxy.close();
    }
    // Someone who later holds the transfer key (both identity keys and the node's session key) and the capture.
    const salt = decodePreamble(Buffer.concat(proxy.recorded))!.preamble.salt;
    const later = new FrameCipher(
      await deriveConnectionKey(fromBase64url(t.key), salt),
      t.sessionId,
      "callee",
    );
    const request = decodeMessage((await later.open(frames[0]!, false)).plain);
    expect(request).toMatchObject({ type: "request", id: t.callerId, eph: expect.any(String) });
    await expect(later.open(frames[1]!, false)).rejects.toMatchObject({ code: "ERR_DIRECT_AUTH" });
  });

  test("both ends hold the same forward-secret relay key after the handshake", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode("I-pictures through the node");
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, caller.relayKey!, plain);
    expect(
      new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, callee.relayKey!, sealed)),
    ).toEqual(plain);
    await caller.close();
  });

  test("a REQUEST without an ephemeral key still connects, under the connection key throughout", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const socket = connect({ host: "127.0.0.1", port: kit.listener.port });
    await new Promise<void>((r) => socket.once("connect", () => r()));
    const salt = crypto.getRandomValues(new Uint8Array(16));
    socket.write(encodePreamble({ salt, sessionId: t.sessionId }));
    const caller = new DirectConnection({
      socket,
      key: await deriveConnectionKey(fromBase64url(t.key), salt),
      sessionId: t.sessionId,
      role: "caller",
      remote: "kit",
    });
    const nonce = randomToken(16);
    await caller.send({ type: "request", id: t.callerId, password: t.password, nonce });
    const accepted = await caller.receiveHandshake(5000);
    expect(accepted).toMatchObject({ type: "accepted", nonce });
    expect(accepted).not.toHaveProperty("eph");
    const callee = await kit.nextAccepted();
    // Without the agreement there is no forward-secret relay key: the session's static one applies.
    expect(callee.relayKey).toBeUndefined();
    await caller.send({ type: "offer", kind: "recording", size: 1, name: "old.ts" });
    expect(await callee.receive()).toMatchObject({ type: "offer", name: "old.ts" });
    await caller.close();
  });
});
