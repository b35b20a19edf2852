/** @module Tests for NodeLink's failover: after three unanswered keepalives it moves to the next UDP endpoint, tries it at once, and its node then answers. */
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
      // With the misses in a row at the time: the fallback's own answers may come late on a loaded machine
      // (20 ms answer timeouts), so the count at the move says what the rule is, not the total.
      log: (event, fields) => events.push([event, { ...fields, misses: cadence.misses }]),
    },
  });
  try {
    expect(link.node.port).toBe(silent.port);
    link.start();
    await waitFor("an answer from the fallback", () => link.stats.answered > 0, { timeoutMs: 5000 });
    expect(link.node.port).toBe(alive.address.port);
    expect(events.find(([e]) => e === "node-endpoint-moved")?.[1].misses).toBe(3);
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

test("NodeLink sends its first keepalive to the new endpoint at once after a move, not an interval later", async () => {
  const secret = randomBytes(32);
  const deviceId = "dev_failover_test2";
  const toSilent: number[] = [];
  const silent = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data() {
        toSilent.push(performance.now());
      },
    },
  });
  const firstAt: number[] = [];
  const alive = await startNodeUdpEndpoint({
    secrets: { [deviceId]: secret },
    onKeepalive: () => firstAt.push(performance.now()),
  });
  let movedAt = 0;
  // Misses do not shorten this interval (floor = interval), and answers time out after 3 s (the cadence's cap):
  // keepalives at 0, 4 and 8 s, the move at the third miss (11 s); one on the timer would come 4 s after it.
  const cadence = new KeepaliveCadence({ intervalMs: 4000, floorMs: 4000 });
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
      log: (event) => {
        if (event === "node-endpoint-moved") movedAt = performance.now();
      },
    },
  });
  try {
    link.start();
    await waitFor("a keepalive at the fallback", () => firstAt.length > 0, { timeoutMs: 25_000 });
    expect(movedAt).toBeGreaterThan(0);
    expect(firstAt[0]! - movedAt).toBeLessThan(1000);
    // The unanswered keepalives went one interval apart (counted from each send), not interval + answer timeout.
    expect(toSilent).toHaveLength(3);
    for (const [a, b] of [toSilent.slice(0, 2), toSilent.slice(1, 3)]) expect(b! - a!).toBeLessThan(5500);
    await waitFor("its answer", () => link.stats.answered > 0, { timeoutMs: 5000 });
  } finally {
    silent.close();
    await alive.close();
  }
}, 40_000);
