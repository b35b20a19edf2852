/** @module Tests for NodeLink's failover: after three unanswered keepalives it moves to the next UDP endpoint, whose node then answers. */
import { expect, test } from "bun:test";
import { randomBytes } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { keepaliveKey } from "../../protocol/keepalive-request.ts";
import { startNodeUdpEndpoint } from "../../test/support/node-udp-endpoint.ts";
import { KeepaliveCadence } from "./keepalive-cadence.ts";
import { NodeLink } from "./node-link.ts";

test("NodeLink moves to the next endpoint after three unanswered keepalives, and round the list again", async () => {
  const secret = randomBytes(32);
  const deviceId = "dev_failover_test1";
  // A bound socket that never answers: a node that died with its port still routable.
  const silent = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const seen: string[] = [];
  const alive = await startNodeUdpEndpoint({
    secrets: { [deviceId]: secret },
    onKeepalive: (id) => seen.push(id),
  });
  const events: Array<[string, Record<string, unknown>]> = [];
  const cadence = new KeepaliveCadence({ intervalMs: 60, floorMs: 20 });
  await using link = await NodeLink.open({
    deviceId,
    stunKey: keepaliveKey(secret),
    node: { host: "127.0.0.1", port: silent.port },
    fallbacks: [{ host: "127.0.0.1", port: alive.address.port }],
    cadence,
    announcedIntervalSec: 25,
    events: {
      answer: () => {},
      miss: () => {},
      trigger: () => {},
      log: (event, fields) => events.push([event, fields]),
    },
  });
  try {
    expect(link.node.port).toBe(silent.port);
    link.start();
    await waitFor("an answer from the fallback", () => link.stats.answered > 0, { timeoutMs: 5000 });
    expect(link.node.port).toBe(alive.address.port);
    expect(link.stats.missed).toBe(3);
    expect(seen).toContain(deviceId);
    expect(events.filter(([e]) => e === "node-endpoint-moved")).toHaveLength(1);

    // The fallback dies too: after three more misses the link is back at the first endpoint.
    await alive.close();
    await waitFor("the move back", () => link.node.port === silent.port, { timeoutMs: 5000 });
    expect(events.filter(([e]) => e === "node-endpoint-moved")).toHaveLength(2);
  } finally {
    silent.close();
    await alive.close();
  }
});
