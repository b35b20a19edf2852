/** @module The direct channel after the handshake: frame integrity, the session lease, backpressure, garbage input, throughput. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "../../crypto/random-token.ts";
import { waitFor } from "../../demo/wait-for.ts";
import {
  collect,
  dialOptions,
  framed,
  proxiedPair,
  rawExchange,
  reorderFrames,
  startKit,
  type startProxy,
} from "../../test/support/direct-test-kit.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { dialDirect } from "./direct-dial.ts";
import { encodePreamble, SALT_BYTES } from "./direct-frame.ts";

describe("direct channel integrity after the handshake", () => {
  const sendThree = async (c: Awaited<ReturnType<typeof dialDirect>>) => {
    for (let i = 0; i < 3; i++) await c.send({ type: "data", bytes: new Uint8Array(1000).fill(i) });
  };

  const cases: Array<[string, Parameters<typeof startProxy>[1], string]> = [
    [
      "a tampered frame",
      (i, s) => {
        if (i === 2) s[5] = (s[5] ?? 0) ^ 1;
        return [framed(s)];
      },
      "ERR_DIRECT_AUTH",
    ],
    ["a replayed frame", (i, s) => (i === 2 ? [framed(s), framed(s)] : [framed(s)]), "ERR_DIRECT_AUTH"],
    ["reordered frames", reorderFrames(), "ERR_DIRECT_AUTH"],
    ["a dropped frame", (i, s) => (i === 1 ? [] : [framed(s)]), "ERR_DIRECT_AUTH"],
    [
      "an oversize frame length",
      (i, s) => (i === 2 ? [new Uint8Array([0xff, 0xff, 0xff, 0xff])] : [framed(s)]),
      "ERR_DIRECT_FRAME_TOO_LARGE",
    ],
    [
      "a stream cut inside a frame",
      (i, s, up) => {
        if (i !== 2) return [framed(s)];
        up.end(framed(s).subarray(0, 10));
        return [];
      },
      "ERR_DIRECT_TRUNCATED",
    ],
    [
      "a stream cut between frames without CLOSE",
      (i, s, up) => {
        if (i !== 2) return [framed(s)];
        up.end();
        return [];
      },
      "ERR_DIRECT_TRUNCATED",
    ],
  ];
  for (const [what, onFrame, code] of cases) {
    test(`closes the connection on ${what} with ${code}`, async () => {
      await using p = await proxiedPair(onFrame);
      await sendThree(p.caller).catch(() => {});
      expect(await p.result).toBe(code);
    });
  }

  test("times out a frame that stalls half-way (slowloris)", async () => {
    await using p = await proxiedPair(
      (i, s) => (i === 0 ? [framed(s)] : i === 1 ? [framed(s).subarray(0, 8)] : []),
      { frameTimeoutMs: 200 },
    );
    await sendThree(p.caller).catch(() => {});
    expect(await p.result).toBe("ERR_DIRECT_TIMEOUT");
  });
});

describe("direct channel session lease", () => {
  test("closes at expiresAt and both sides learn why", async () => {
    await using kit = await startKit();
    const originalEnd = Date.now() + 300;
    const t = kit.ticket({ expiresAt: originalEnd });
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const calleeSide = collect(callee.messages()).catch((e) => e);
    // Both ends hold the end time (the caller from ACCEPTED); whichever fires first, both learn "expired".
    const err = await collect(caller.messages()).catch((e) => e);
    expect(["ERR_DIRECT_EXPIRED", "ERR_DIRECT_CLOSED"]).toContain(err.code);
    expect(err.reason).toBe("expired");
    const calleeErr = await calleeSide;
    expect(["ERR_DIRECT_EXPIRED", "ERR_DIRECT_CLOSED"]).toContain(calleeErr.code);
    expect(calleeErr.reason).toBe("expired");
  });

  test("stays open past the old end after extend()", async () => {
    await using kit = await startKit();
    const originalEnd = Date.now() + 300;
    const t = kit.ticket({ expiresAt: originalEnd });
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    kit.tickets.extend(t.sessionId, Date.now() + 60_000);
    caller.setExpiry(Date.now() + 60_000);
    // Past the original end: the point of the test is that nothing happens then.
    await waitFor("the original end to pass", () => Date.now() > originalEnd + 200);
    await caller.send({ type: "end" });
    expect(await callee.receive()).toEqual({ type: "end" });
    await caller.close();
  });

  test("ends open channels when the session is ended", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    await kit.nextAccepted();
    kit.tickets.end(t.sessionId);
    expect(await collect(caller.messages()).catch((e) => e)).toMatchObject({
      code: "ERR_DIRECT_CLOSED",
      reason: "ended",
    });
  });
});

describe("direct channel backpressure", () => {
  test("a reader that stops reading stops the sender", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const total = 64 * 1024 * 1024;
    const sending = caller.sendData(new Uint8Array(total));
    sending.catch(() => {});
    await waitFor("the callee to pause reading", () => callee.readPaused);
    // The sender is now held by the socket buffers: far less than the whole payload has left it.
    expect(caller.bytesSent).toBeLessThan(total / 2);
    let got = 0;
    const reading = (async () => {
      for await (const m of callee.messages()) if (m.type === "data") got += m.bytes.length;
    })();
    await sending;
    await caller.close();
    await reading;
    expect(got).toBe(total);
  });
});

describe("direct listener under garbage", () => {
  test("survives 300 random and mutated byte streams and still accepts a real caller", async () => {
    await using kit = await startKit({ handshakeTimeoutMs: 300 });
    const t = kit.ticket();
    const valid = encodePreamble({ salt: randomBytes(SALT_BYTES), sessionId: t.sessionId });
    const r = new SeededRandom(7);
    const streams: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) streams.push(r.bytes(r.below(400)));
      else {
        const tail = r.bytes(r.below(200));
        const b = new Uint8Array([...valid, ...tail]);
        if (i % 3 === 1) b[r.below(b.length)] = r.byte();
        streams.push(b);
      }
    }
    for (let i = 0; i < streams.length; i += 30) {
      await Promise.all(
        streams.slice(i, i + 30).map((s) => rawExchange(kit.listener.port, s, { timeoutMs: 3000 })),
      );
    }
    const c = await dialDirect(dialOptions(kit.listener.port, t));
    await c.close();
    expect(kit.accepted.length).toBe(1);
    expect(kit.logs.filter((l) => l.code === "DIRECT_ACCEPTED").length).toBe(1);
  });

  test("drops a client that sends nothing in the handshake time", async () => {
    await using kit = await startKit({ handshakeTimeoutMs: 100 });
    const r = await rawExchange(kit.listener.port, new Uint8Array(0), { end: false });
    expect(r.closedByPeer).toBe(true);
    expect(kit.logs.map((l) => l.code)).toContain("ERR_DIRECT_TIMEOUT");
  });

  test("closes when the first frame length is oversize", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const pre = encodePreamble({ salt: randomBytes(SALT_BYTES), sessionId: t.sessionId });
    const r = await rawExchange(kit.listener.port, new Uint8Array([...pre, 0xff, 0xff, 0xff, 0xff]), {
      end: false,
    });
    expect(r).toEqual({ received: 0, closedByPeer: true });
    await waitFor("the listener to log ERR_DIRECT_FRAME_TOO_LARGE", () =>
      kit.logs.some((l) => l.code === "ERR_DIRECT_FRAME_TOO_LARGE"),
    );
  });
});

describe("direct channel throughput", () => {
  test("moves 256 MiB of sealed DATA over loopback (figure printed, not asserted)", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOptions(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const chunk = randomBytes(1024 * 1024);
    const total = 256 * 1024 * 1024;
    let got = 0;
    const reading = (async () => {
      for await (const m of callee.messages()) if (m.type === "data") got += m.bytes.length;
    })();
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) await caller.send({ type: "data", bytes: chunk });
    await caller.close();
    await reading;
    const secs = (performance.now() - t0) / 1000;
    expect(got).toBe(total);
    console.log(`direct channel: 256 MiB in ${secs.toFixed(2)} s = ${(total / 1e6 / secs).toFixed(0)} MB/s`);
  }, 60_000);
});
