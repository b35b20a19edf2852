/** @module The direct channel over node:quic on loopback: handshake, pinning, byte-identical data both ways. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { createPinnedCertificate } from "../../crypto/self-signed-certificate.ts";
import { collect, dialOptions, startKit } from "../../test/support/direct-test-kit.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { dialDirect } from "./direct-dial.ts";
import { DirectChannelError } from "./direct-error.ts";
import { connectQuic, listenQuic } from "./quic-transport.ts";

/** A UDP port that was free a moment ago (the QUIC endpoint takes it over, as after a punch). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A direct-channel kit whose listener adopts the streams of a QUIC server with a fresh certificate. */
async function quicCallee() {
  const kit = await startKit();
  const cert = await createPinnedCertificate("pvrlink", 60_000);
  const server = await listenQuic({
    host: "127.0.0.1",
    port: await freeUdpPort(),
    certificate: cert,
    onSocket: (s) => kit.listener.adopt(s),
  });
  return {
    kit,
    cert,
    server,
    connect: async (fingerprint = cert.fingerprint, localPort?: number) =>
      connectQuic({
        host: "127.0.0.1",
        port: server.port,
        localHost: "127.0.0.1",
        localPort: localPort ?? (await freeUdpPort()),
        fingerprint,
      }),
    [Symbol.asyncDispose]: async () => {
      await server.close();
      await kit[Symbol.asyncDispose]();
    },
  };
}

describe("QUIC transport", () => {
  test("connectQuic() carries the direct channel: REQUEST/ACCEPTED, 12 MiB clear data, CLOSE", async () => {
    await using pair = await quicCallee();
    const { kit, server } = pair;
    const t = kit.ticket();
    const localPort = await freeUdpPort();
    await using client = await pair.connect(undefined, localPort);
    const socket = await client.openSocket();
    const conn = await dialDirect({ ...dialOptions(server.port, t), socket });
    const callee = await kit.nextAccepted();
    expect(callee.remote).toBe(`127.0.0.1:${localPort}`);
    const payload = new SeededRandom(15).bytes(12 * 1024 * 1024);
    const received = collect(callee.messages());
    const sent = await conn.sendStream(
      (async function* () {
        for (let at = 0; at < payload.byteLength; at += 300_000) yield payload.subarray(at, at + 300_000);
      })(),
      undefined,
      { clear: true },
    );
    await conn.close();
    const got = Buffer.concat(
      (await received).flatMap((m) => (m.type === "data" ? [m.bytes] : [])) as Uint8Array[],
    );
    expect(sent).toBe(payload.byteLength);
    expect(sha(got)).toBe(sha(payload));
    expect(kit.logs.map((l) => l.code)).toEqual(["DIRECT_ACCEPTED"]);
  }, 30_000);

  test("connectQuic() rejects a server whose certificate is not the pinned one", async () => {
    await using pair = await quicCallee();
    const other = await createPinnedCertificate("pvrlink", 60_000);
    const err = await pair.connect(other.fingerprint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectChannelError);
    expect((err as DirectChannelError).code).toBe("ERR_DIRECT_PEER_UNVERIFIED");
  });

  test("connectQuic() fails with ERR_DIRECT_CONNECT when nobody answers", async () => {
    const started = Date.now();
    const err = await connectQuic({
      host: "127.0.0.1",
      port: await freeUdpPort(),
      localHost: "127.0.0.1",
      localPort: await freeUdpPort(),
      fingerprint: "00",
      timeoutMs: 700,
    }).catch((e: unknown) => e);
    expect((err as DirectChannelError).code).toBe("ERR_DIRECT_CONNECT");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("a QUIC caller with the wrong session password is denied inside the stream", async () => {
    await using pair = await quicCallee();
    const { kit, server } = pair;
    const t = kit.ticket();
    await using client = await pair.connect();
    const err = await dialDirect({
      ...dialOptions(server.port, { ...t, password: "wrong-password-0000000" }),
      socket: await client.openSocket(),
    }).catch((e: unknown) => e);
    expect((err as DirectChannelError).code).toBe("ERR_DIRECT_DENIED");
  });
});
