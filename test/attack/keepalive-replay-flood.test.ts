/** @module Attack (issue 21 item 8), real node process: one device floods authenticated keepalives from many addresses to fill the replay cache. */
import { expect, test } from "bun:test";
import { DEFAULT_MAX_PER_DEVICE } from "../../control/udp/replay-cache.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { buildKeepalive, keepaliveKey, readKeepaliveResponse } from "../../protocol/keepalive-request.ts";
import { startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const ADDRESSES = 100;
const PER_ADDRESS = 12; // 1,200 keepalives: past one device's share, within each address's UDP bucket

test("a device's keepalive flood from 100 addresses fills only its own replay share: bob's keepalives are still answered", async () => {
  await using node = await startNode();
  const m = await node.enroll("mallory");
  const b = await node.enroll("bob");
  await using bob = await DeviceAgent.start(b, node.udp);
  const key = keepaliveKey(fromBase64url(m.secret));
  let answered = 0;
  let refused = 0;
  const sockets = [];
  try {
    for (let i = 0; i < ADDRESSES; i++) {
      const pending = new Map<string, Uint8Array>();
      const socket = await Bun.udpSocket({
        hostname: `127.1.${i >> 8}.${(i & 255) + 1}`,
        port: 0,
        socket: {
          data(_s, data) {
            const bytes = new Uint8Array(data);
            const tx = Buffer.from(bytes.subarray(8, 20)).toString("hex");
            const transactionId = pending.get(tx);
            if (!transactionId) return;
            pending.delete(tx);
            try {
              readKeepaliveResponse(bytes, { key, transactionId });
              answered++;
            } catch {
              refused++;
            }
          },
          // A datagram still in flight when the node stops comes back as ECONNREFUSED: not this test's failure.
          error() {},
        },
      });
      sockets.push(socket);
      for (let j = 0; j < PER_ADDRESS; j++) {
        const k = buildKeepalive({ deviceId: m.id, key, now: Date.now(), intervalSec: 25 });
        pending.set(Buffer.from(k.transactionId).toString("hex"), k.transactionId);
        socket.send(k.bytes, node.udp.port, node.udp.host);
      }
      // One address's burst at a time, so the loopback socket buffers drop nothing.
      await waitFor(`answers to address ${i}`, () => pending.size === 0, { timeoutMs: 5000 });
    }
    await waitFor("every flood keepalive answered", () => answered + refused >= ADDRESSES * PER_ADDRESS, {
      timeoutMs: 15_000,
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${answered} answered, ${refused} refused`);
    });
    expect(answered).toBe(DEFAULT_MAX_PER_DEVICE);
    expect(refused).toBe(ADDRESSES * PER_ADDRESS - DEFAULT_MAX_PER_DEVICE);
    await bob.keepalive();
  } finally {
    for (const s of sockets) s.close();
  }
});
