/** @module chooseDirectPath() on loopback with a real node rendezvous, a real callee punch and a real TCP listener. */
import { describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { randomBytes, randomToken } from "../../crypto/random-token.ts";
import { startKit } from "../../test/support/direct-test-kit.ts";
import { startNodeUdpEndpoint } from "../../test/support/node-udp-endpoint.ts";
import { startSynBlackhole } from "../../test/support/syn-blackhole.ts";
import { dialDirect } from "../direct/direct-dial.ts";
import { acceptPunched } from "../direct/punched-accept.ts";
import { chooseDirectPath, type DirectPathKind } from "./choose-direct-path.ts";

const secrets: Record<string, Uint8Array> = { dev_a: randomBytes(32), dev_b: randomBytes(32) };

function rendezvous(sessionId: string) {
  return startNodeUdpEndpoint({
    secrets,
    sessionParties: (id) => (id === sessionId ? { callerId: "dev_a", calleeId: "dev_b" } : null),
  });
}

/** dev_a's punch through the node for a session whose callee never binds: it fails at the mapping timeout. */
function punchWithoutPeer(node: { address: { port: number } }, sessionId: string) {
  return {
    node: { host: "127.0.0.1", port: node.address.port },
    deviceId: "dev_a",
    secret: secrets.dev_a!,
    session: { id: sessionId, key: randomToken(32) },
  };
}

async function tcpListener(): Promise<Server & AsyncDisposable> {
  const server = createServer((s) => s.on("error", () => {})) as Server & AsyncDisposable;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server[Symbol.asyncDispose] = () => new Promise<void>((r) => server.close(() => r()));
  return server;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;

describe("chooseDirectPath()", () => {
  const cases: Array<{ name: string; forward: boolean; kind: DirectPathKind }> = [
    {
      name: "prefers a TCP port forward over a LAN punch when both open",
      forward: true,
      kind: "port-forward",
    },
    { name: "takes the LAN punch when the TCP dial is refused", forward: false, kind: "lan" },
  ];
  for (const c of cases)
    test(`chooseDirectPath() ${c.name}, and the channel opens on it`, async () => {
      await chooseAndOpen(c);
    }, 20_000);

  async function chooseAndOpen(c: { forward: boolean; kind: DirectPathKind }): Promise<void> {
    await using kit = await startKit();
    const t = kit.ticket({ callerId: "dev_a" });
    await using node = await rendezvous(t.sessionId);
    // The callee's own TCP port, or one nothing listens on (closed at once: the dial is refused).
    await using closed = await tcpListener();
    const refusedPort = portOf(closed);
    await closed[Symbol.asyncDispose]();
    const nodeAddr = { host: "127.0.0.1", port: node.address.port };
    const session = { id: t.sessionId, key: t.key };
    const callee = acceptPunched({
      node: nodeAddr,
      deviceId: "dev_b",
      secret: secrets.dev_b!,
      session,
      listener: kit.listener,
    });
    const { chosen } = await chooseDirectPath({
      forward: { host: "127.0.0.1", port: c.forward ? kit.listener.port : refusedPort },
      punch: { node: nodeAddr, deviceId: "dev_a", secret: secrets.dev_a!, session },
      timeoutMs: 2000,
    });
    expect(chosen?.kind).toBe(c.kind);
    const conn = await dialDirect({
      host: chosen!.host,
      port: chosen!.port,
      sessionId: t.sessionId,
      password: t.password,
      key: t.key,
      callerId: "dev_a",
      socket: chosen!.socket,
    });
    expect((await kit.nextAccepted()).peerId).toBe("dev_a");
    await conn.close();
    // The callee's punch answered whichever path won; its QUIC side closes either way.
    await (await callee.catch(() => undefined))?.server.close();
  }

  test("chooseDirectPath() takes the port forward when no peer punches", async () => {
    await using forward = await tcpListener();
    await using node = await rendezvous("ses_x");
    const started = performance.now();
    const { chosen } = await chooseDirectPath({
      forward: { host: "127.0.0.1", port: portOf(forward) },
      punch: punchWithoutPeer(node, "ses_x"),
      timeoutMs: 2000,
      graceMs: 200,
    });
    expect(chosen?.kind).toBe("port-forward");
    // The grace for a better path, not the punch's 2 s mapping timeout, bounds the wait.
    expect(performance.now() - started).toBeLessThan(1000);
    await chosen!.close();
  });

  test("chooseDirectPath() stops waiting for a TCP connect whose SYNs go unanswered soon after the punch fails", async () => {
    await using blackhole = await startSynBlackhole();
    await using node = await rendezvous("ses_y");
    const started = performance.now();
    const { chosen, failures } = await chooseDirectPath({
      forward: { host: "127.0.0.1", port: blackhole.port },
      punch: punchWithoutPeer(node, "ses_y"),
      timeoutMs: 15_000,
      tcpTailMs: 300,
    });
    const elapsed = performance.now() - started;
    expect(chosen).toBeUndefined();
    expect(failures.join("; ")).toContain(`127.0.0.1:${blackhole.port} did not answer a TCP connect`);
    // The punch's own failure (no peer) comes at its mapping timeout (2 s); the connect's 15 s never matter.
    expect(failures.length).toBe(2);
    expect(elapsed).toBeLessThan(5000);
  }, 20_000);

  const nothing: Array<[string, Parameters<typeof chooseDirectPath>[0], RegExp]> = [
    ["no candidate at all", { timeoutMs: 500 }, /the callee registered no address/],
    [
      "a refused port forward",
      { forward: { host: "127.0.0.1", port: 1 }, timeoutMs: 500 },
      /Cannot connect to 127\.0\.0\.1:1/,
    ],
  ];
  for (const [what, opts, failure] of nothing) {
    test(`chooseDirectPath() reports the failure for ${what}`, async () => {
      const { chosen, failures } = await chooseDirectPath(opts);
      expect(chosen).toBeUndefined();
      expect(failures.join("; ")).toMatch(failure);
    });
  }
});
