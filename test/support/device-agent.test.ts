/** @module Tests of the DeviceAgent test kit: a datagram to a node that has stopped does not fail the test running then. */
import { expect, test } from "bun:test";
import { waitFor } from "../../demo/wait-for.ts";
import { DeviceAgent } from "./device-agent.ts";

test("DeviceAgent keeps an ICMP refusal (a keepalive to a stopped node) as a socket error, not an unhandled one", async () => {
  // A port that was bound and let go: nothing listens there, so the kernel answers port unreachable.
  const gone = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = gone.port;
  gone.close();
  const cred = { id: "dev_test", secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy" };
  await using agent = await DeviceAgent.start(cred, { host: "127.0.0.1", port });
  await expect(agent.keepalive()).rejects.toThrow();
  await waitFor("the refusal to reach the socket", () => agent.socketErrors.length > 0, { timeoutMs: 5000 });
  expect(agent.socketErrors[0]?.message).toContain("refused");
});
