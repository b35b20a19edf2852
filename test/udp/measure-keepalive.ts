/** @module Measures keepalive datagrams/s ingested with HMAC verification over loopback (Bun.udpSocket, node:dgram); not a test. */
import { createSocket } from "node:dgram";
import { KeepaliveHandler } from "../../control/udp/keepalive-handler.ts";
import { UdpEndpoint } from "../../control/udp/udp-endpoint.ts";
import { deriveKey } from "../../crypto/hmac.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { buildKeepalive } from "../../protocol/keepalive-request.ts";

const DEVICES = 1000;
const DATAGRAMS = 150_000;
const SECONDS = 3;
const secretOf = (id: string) => new Uint8Array(32).fill(Number(id.slice(4)) % 251);

if (process.argv[2] === "send") {
  // Child: pre-builds distinct authenticated keepalives, then sends them in bursts for SECONDS.
  const port = Number(process.argv[3]);
  const now = Date.now();
  const keys = Array.from({ length: DEVICES }, (_, i) => deriveKey(secretOf(`dev_${i}`), "stun"));
  const packets = Array.from(
    { length: DATAGRAMS },
    (_, i) => buildKeepalive({ deviceId: `dev_${i % DEVICES}`, key: keys[i % DEVICES]!, now }).bytes,
  );
  const sock = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const end = Date.now() + SECONDS * 1000;
  let i = 0;
  while (Date.now() < end && i < packets.length) {
    const batch: Array<Uint8Array | number | string> = [];
    for (let k = 0; k < 32 && i < packets.length; k++, i++) batch.push(packets[i]!, port, "127.0.0.1");
    sock.sendMany(batch);
    if (i % 1024 === 0) await Bun.sleep(0);
  }
  sock.close();
  process.exit(0);
}

async function run(
  name: string,
  start: () => Promise<{ port: number; count: () => number; close: () => void }>,
) {
  const r = await start();
  const child = Bun.spawn([process.execPath, import.meta.path, "send", String(r.port)], {
    stdout: "inherit",
    stderr: "inherit",
  });
  // Measure over a window that starts once the sender is up (first datagram seen).
  await waitFor(`the first datagram at ${name}`, () => r.count() > 0, { intervalMs: 5 });
  const c0 = r.count();
  const t0 = performance.now();
  await child.exited;
  const rate = (r.count() - c0) / ((performance.now() - t0) / 1000);
  r.close();
  console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString("en")} keepalives/s verified`);
  return rate;
}

const lookup = (id: string) => (id.startsWith("dev_") ? secretOf(id) : null);

await run("UdpEndpoint (Bun.udpSocket, full path)", async () => {
  const ep = await UdpEndpoint.start({
    host: "127.0.0.1",
    port: 0,
    lookupSecret: lookup,
    onKeepalive: () => {},
    rateLimit: false,
  });
  return { port: ep.address.port, count: () => ep.stats.keepalives, close: () => void ep.close() };
});

await run("Bun.udpSocket + KeepaliveHandler", async () => {
  const h = new KeepaliveHandler(lookup);
  let n = 0;
  const s = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      error() {},
      data(sock, data, port, address) {
        const out = h.handle(data, { address, port }, Date.now());
        if (out.registration) n++;
        try {
          if (out.reply) sock.send(out.reply, port, address);
        } catch {
          // ICMP unreachable from a sender that already exited surfaces here as ECONNREFUSED.
        }
      },
    },
  });
  return { port: s.port, count: () => n, close: () => s.close() };
});

await run("node:dgram + KeepaliveHandler", async () => {
  const h = new KeepaliveHandler(lookup);
  let n = 0;
  const s = createSocket("udp4");
  s.on("message", (data, rinfo) => {
    const out = h.handle(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), rinfo, Date.now());
    if (out.registration) n++;
    if (out.reply) s.send(out.reply, rinfo.port, rinfo.address);
  });
  s.on("error", () => {});
  await new Promise<void>((res) => s.bind(0, "127.0.0.1", () => res()));
  return { port: s.address().port, count: () => n, close: () => s.close() };
});

// The same verification without sockets: the ceiling the socket layer is measured against.
{
  const h = new KeepaliveHandler(lookup);
  const now = Date.now();
  const keys = Array.from({ length: DEVICES }, (_, i) => deriveKey(secretOf(`dev_${i}`), "stun"));
  const packets = Array.from(
    { length: 100_000 },
    (_, i) => buildKeepalive({ deviceId: `dev_${i % DEVICES}`, key: keys[i % DEVICES]!, now }).bytes,
  );
  const t0 = performance.now();
  let ok = 0;
  for (const p of packets) if (h.handle(p, { address: "127.0.0.1", port: 5000 }, now).registration) ok++;
  const rate = ok / ((performance.now() - t0) / 1000);
  console.log(
    `${"KeepaliveHandler.handle() in process".padEnd(44)} ${Math.round(rate).toLocaleString("en")} keepalives/s verified`,
  );
}
