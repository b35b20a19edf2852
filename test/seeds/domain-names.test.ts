/**
 * @module Seed A variation 3 with real processes: a callee registered by DNS name, resolved by the node when it
 * answers a permitted caller; names that do not resolve, or resolve to loopback, link-local, private or the
 * node's own addresses, are callee_not_connected, and the node never connects to them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { DnsResponder } from "../support/dns-responder.ts";
import { type CalleeStage, startCalleeStage } from "../support/recorder-harness.ts";
import { sendDataAndExpectReceipt } from "./seed-kit.ts";

/** The node's own non-loopback address, if this machine has one (a private one on any test box). */
function ownNonLoopback(): string | undefined {
  const { networkInterfaces } = require("node:os") as typeof import("node:os");
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "answered";
  } catch (err) {
    if (!(err instanceof ControlApiError)) throw err;
    return err.code;
  }
}

/** Registers grandma (with her own credential, as her daemon would) under `host`. */
function grandma(stage: CalleeStage): ControlClient {
  return stage.node.client({ id: stage.rec.device, secret: stage.rec.secret });
}

/** A TCP listener that counts connections: where a name points, to show the node's probe never went there. */
async function countingListener(): Promise<{ server: Server; port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, accepted: () => n };
}

describe("domain names, strict node with the system resolver (allowPrivateAddresses off)", () => {
  let stage: CalleeStage;
  beforeAll(async () => {
    stage = await startCalleeStage({
      nodeConfig: { allowPrivateAddresses: false, tcpProbe: true, tcpProbeTimeoutMs: 500 },
      recorderArgs: ["--advertise", "localhost:0"],
    });
  }, 30_000);
  afterAll(() => stage?.[Symbol.asyncDispose]());

  test("a recorder may register a DNS name: the daemon's --advertise localhost is stored as a host", async () => {
    expect(await grandma(stage).registration()).toMatchObject({ address: "localhost" });
  });

  test("`localhost` resolves to loopback only: callee_not_connected, and the probe never connects there", async () => {
    await using trap = await countingListener().then((t) => ({
      ...t,
      [Symbol.asyncDispose]: () => new Promise<void>((r) => t.server.close(() => r())),
    }));
    await grandma(stage).register("localhost", trap.port);
    expect(await refusal(stage.alice.query("grandma"))).toBe("callee_not_connected");
    expect(trap.accepted()).toBe(0);
  });

  test("a name that does not resolve (.invalid, RFC 6761) is callee_not_connected", async () => {
    await grandma(stage).register("grandma.invalid", 7000);
    expect(await refusal(stage.alice.query("grandma"))).toBe("callee_not_connected");
  });

  test("registration refuses what is not a host name, and an address and a host together", async () => {
    const g = grandma(stage);
    for (const body of [
      { host: "bad_name.example", port: 7000 },
      { host: "10.0.0.1", port: 7000 },
      { host: "a.example", address: "8.8.8.8", port: 7000 },
      { host: "", port: 7000 },
    ]) {
      const res = await g.raw("PUT", "/v1/registration", JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    }
  });
});

describe("domain names, strict node asking a DNS server (a real UDP DNS responder)", () => {
  let stage: CalleeStage;
  let dns: DnsResponder;
  const own = ownNonLoopback();
  beforeAll(async () => {
    dns = await DnsResponder.start({
      "grandma.dyn.example": ["127.0.0.1"],
      "metadata.dyn.example": ["169.254.169.254"],
      "lan.dyn.example": ["10.1.2.3"],
      "loop.dyn.example": ["127.0.0.1"],
      "public.dyn.example": ["169.254.169.254", "8.8.8.8"],
      ...(own ? { "own.dyn.example": [own] } : {}),
    });
    stage = await startCalleeStage({
      nodeConfig: { allowPrivateAddresses: false, dnsServer: dns.server },
      recorderArgs: ["--advertise", "grandma.dyn.example:0"],
    });
  }, 30_000);
  afterAll(async () => {
    await stage?.[Symbol.asyncDispose]();
    await dns?.[Symbol.asyncDispose]();
  });

  const refused = [
    ["link-local (cloud metadata)", "metadata.dyn.example"],
    ["private (RFC 1918)", "lan.dyn.example"],
    ["loopback", "loop.dyn.example"],
    ["NXDOMAIN", "nobody.dyn.example"],
  ];
  for (const [what, host] of refused) {
    test(`a name resolving to ${what} is callee_not_connected`, async () => {
      await grandma(stage).register(host as string, 7000);
      const asked = dns.queries.length;
      expect(await refusal(stage.alice.query("grandma"))).toBe("callee_not_connected");
      expect(dns.queries.slice(asked)).toContain(host as string);
    });
  }

  test("a name resolving to a public address is answered with that address (the unsafe ones skipped) and the name", async () => {
    await grandma(stage).register("public.dyn.example", 7000);
    const q = await stage.alice.query("grandma");
    if (q.status !== 200) throw new Error("expected a live session");
    expect(q.callee).toMatchObject({ host: "public.dyn.example", address: "8.8.8.8", port: 7000 });
    await stage.alice.end(q.session.id, { reason: "done" });
  });

  test.skipIf(own === undefined)(
    "a name resolving to the node's own address is callee_not_connected",
    async () => {
      await grandma(stage).register("own.dyn.example", 7000);
      expect(await refusal(stage.alice.query("grandma"))).toBe("callee_not_connected");
    },
  );

  test("an unpermitted caller gets permission_denied, and the node does not even resolve the name", async () => {
    const mallory = stage.node.client(await stage.node.enroll("mallory"));
    await grandma(stage).register("metadata.dyn.example", 7000);
    const asked = dns.queries.length;
    expect(await refusal(mallory.query("grandma"))).toBe("permission_denied");
    expect(dns.queries.length).toBe(asked);
  });
});

describe("domain names, a LAN node (allowPrivateAddresses on)", () => {
  let stage: CalleeStage;
  beforeAll(async () => {
    stage = await startCalleeStage({ recorderArgs: ["--advertise", "localhost:0"] });
  }, 30_000);
  afterAll(() => stage?.[Symbol.asyncDispose]());

  test("the node answers the resolved address and the name, and the caller connects and transfers", async () => {
    const q = await stage.alice.query("grandma");
    if (q.status !== 200) throw new Error("expected a live session");
    expect(q.callee).toMatchObject({ host: "localhost", address: "127.0.0.1", port: stage.rec.direct.port });
    const conn = await dialDirect({
      host: q.callee.address ?? "",
      port: q.callee.port ?? 0,
      sessionId: q.session.id,
      password: q.session.password,
      calleePassword: q.session.calleePassword,
      contact: { connectBy: q.session.connectBy, ticket: q.session.contactTicket ?? "" },
      key: q.session.key,
      callerId: stage.aliceCred.id,
    });
    await sendDataAndExpectReceipt(conn, "by-name.bin", 3000);
  }, 20_000);
});
