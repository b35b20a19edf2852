/** @module Integration: coturn's turnutils_stunclient gets the right mapped address from the node's UDP endpoint. */
import { expect, test } from "bun:test";
import { UdpEndpoint } from "../../control/udp/udp-endpoint.ts";

// coturn's turnutils_stunclient is an independent STUN implementation: if it reads our XOR-MAPPED-ADDRESS as the
// source it actually sent from, the codec agrees with RFC 8489 as others read it, not only with itself.
test("turnutils_stunclient gets the correct mapped address from the UDP endpoint", async () => {
  await using ep = await UdpEndpoint.start({
    host: "127.0.0.1",
    port: 0,
    lookupSecret: () => null,
    onKeepalive: () => {
      throw new Error("a plain STUN client must not register");
    },
  });
  const seen: string[] = [];
  const real = ep.onDatagram.bind(ep);
  ep.onDatagram = (data, address, port) => {
    seen.push(`${address}:${port}`);
    real(data, address, port);
  };
  // -L binds the client to 127.0.0.2, so a mapped address of 127.0.0.1 (the server's own) would be caught.
  const proc = Bun.spawn(
    ["turnutils_stunclient", "-L", "127.0.0.2", "-p", String(ep.address.port), "127.0.0.1"],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill(), 10_000);
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  clearTimeout(timer);
  expect(code).toBe(0);
  const m = /UDP reflexive addr: ([0-9.]+):(\d+)/.exec(out);
  expect(m).not.toBeNull();
  expect(seen.length).toBeGreaterThan(0);
  expect(`${m![1]}:${m![2]}`).toBe(seen[0]!);
  expect(m![1]).toBe("127.0.0.2");
  expect(ep.stats.plainBindings).toBeGreaterThan(0);
});
