/** @module Attack (issue 21 item 9), real node process: a device registers loopback, metadata or malformed addresses to make the node's tcpProbe scan for it. */
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { outcomeOf } from "../support/api-outcome.ts";
import { makeDataDir, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const STRICT = { tcpProbe: true, allowPrivateAddresses: false };

test("registration refuses non-public and malformed addresses unless the operator allows them", async () => {
  await using node = await startNode({ config: STRICT });
  const dev = node.client(await node.enroll("mallory"));
  const cases: [string, string][] = [
    ["127.0.0.1", "400 address_not_public"],
    ["169.254.169.254", "400 address_not_public"],
    ["10.0.0.1", "400 address_not_public"],
    ["192.168.1.2", "400 address_not_public"],
    ["fe80::1", "400 address_not_public"],
    ["::1", "400 address_not_public"],
    [":::::::::", "400 bad_request"],
    ["8.8.8.8", "ok"],
    ["2606:4700:4700::1111", "ok"],
  ];
  for (const [address, want] of cases) {
    expect({ address, got: await outcomeOf(dev.register(address, 8080)) }).toEqual({ address, got: want });
  }
});

test("the node never probes a loopback address left registered from before, so the probe is no port scanner", async () => {
  const dataDir = makeDataDir();
  let probed = 0;
  const target = createServer((s) => {
    probed++;
    s.destroy();
  });
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  const port = (target.address() as { port: number }).port;
  try {
    let creds: { mallory: { id: string; secret: string }; bob: { id: string; secret: string } };
    {
      await using node = await startNode({
        dataDir,
        keepData: true,
        config: { allowPrivateAddresses: true },
      });
      creds = { mallory: await node.enroll("mallory"), bob: await node.enroll("bob") };
      await node.client(creds.bob).updateAllowList({ create: ["mallory"] });
      await node.client(creds.bob).register("127.0.0.1", port);
    }
    await using node = await startNode({ dataDir, keepData: true, config: STRICT });
    await using bob = await DeviceAgent.start(creds.bob, node.udp);
    await bob.keepalive();
    expect(await outcomeOf(node.client(creds.mallory).query("bob"))).toBe("409 callee_not_connected");
    expect(probed).toBe(0);
  } finally {
    target.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
