import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { fromBase64url, randomBytes, randomToken } from "../../crypto/random-token.ts";
import { deriveConnectionKey } from "./connection-key.ts";
import { DirectConnection } from "./direct-connection.ts";
import { dialDirect } from "./direct-dial.ts";
import { DirectChannelError } from "./direct-error.ts";
import { decodePreamble, encodePreamble, SALT_BYTES } from "./direct-frame.ts";
import type { DirectMessage } from "./direct-message.ts";
import { framed, rawExchange, startKit, startProxy, waitFor } from "./direct-test-kit.ts";

const dialOpts = (
  port: number,
  t: { sessionId: string; password: string; key: string; callerId: string },
) => ({
  host: "127.0.0.1",
  port,
  sessionId: t.sessionId,
  password: t.password,
  key: t.key,
  callerId: t.callerId,
});

async function collect(it: AsyncIterable<DirectMessage>): Promise<DirectMessage[]> {
  const out: DirectMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as DirectChannelError).code;
  }
}

describe("direct channel handshake", () => {
  test("accepts the right caller, then carries OFFER, DATA, END and a RECEIPT both ways", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    expect(callee.peerId).toBe(t.callerId);
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const received = (async () => {
      const msgs: DirectMessage[] = [];
      for await (const m of callee.messages()) {
        msgs.push(m.type === "data" ? { type: "data", bytes: new Uint8Array(m.bytes) } : m);
        if (m.type === "end") await callee.send({ type: "receipt", ok: true, bytes: callee.bytesReceived });
      }
      return msgs;
    })();
    await caller.send({ type: "offer", kind: "recording", size: payload.length, name: "rec.ts" });
    await caller.sendData(payload);
    await caller.send({ type: "end", size: payload.length });
    const reply = await caller.receive();
    expect(reply).toEqual({ type: "receipt", ok: true, bytes: payload.length });
    await caller.close();
    const msgs = await received;
    expect(msgs[0]).toEqual({ type: "offer", kind: "recording", size: payload.length, name: "rec.ts" });
    const data = msgs.filter((m) => m.type === "data").map((m) => (m as { bytes: Uint8Array }).bytes);
    expect(data.map((d) => d.length)).toEqual([1048576, 1048576, 1048576, 17]);
    expect(Buffer.concat(data).equals(Buffer.from(payload))).toBe(true);
    expect([caller.bytesSent, callee.bytesReceived]).toEqual([payload.length, payload.length]);
    expect(await callee.closed).toBeUndefined();
    expect(kit.logs.map((l) => l.code)).toEqual(["DIRECT_ACCEPTED"]);
  });

  test("denies a wrong password with a sealed DENIED", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const err = await dialDirect({ ...dialOpts(kit.listener.port, t), password: randomToken(16) }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "wrong_password" });
  });

  test("denies a second use of the password", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const first = await dialDirect(dialOpts(kit.listener.port, t));
    await first.close();
    const err = await dialDirect(dialOpts(kit.listener.port, t)).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "password_used" });
  });

  test("denies a replay of a recorded REQUEST, byte for byte", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const proxy = await startProxy({ host: "127.0.0.1", port: kit.listener.port });
    try {
      const c = await dialDirect(dialOpts(proxy.port, t));
      await c.close();
    } finally {
      await proxy.close();
    }
    const replay = Buffer.concat(proxy.recorded);
    const r = await rawExchange(kit.listener.port, replay, { end: false });
    expect(r.closedByPeer).toBe(true);
    expect(r.received).toBeGreaterThan(0); // the sealed DENIED
    await waitFor(() => kit.logs.some((l) => l.code === "DIRECT_DENIED"));
    expect(kit.logs.find((l) => l.code === "DIRECT_DENIED")?.detail).toBe("password_used");
    expect(kit.accepted.length).toBe(1);
  });

  test("denies a caller whose connect window has closed", async () => {
    await using kit = await startKit();
    const t = kit.ticket({ connectBy: Date.now() - 1 });
    const err = await dialDirect(dialOpts(kit.listener.port, t)).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_DIRECT_DENIED", reason: "connect_window_closed" });
  });

  test("closes on a wrong key without a word, and the real caller can still connect", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const code = await codeOf(
      dialDirect({ ...dialOpts(kit.listener.port, t), key: randomToken(32), timeoutMs: 3000 }),
    );
    expect(code).toBe("ERR_DIRECT_TRUNCATED");
    await waitFor(() => kit.logs.some((l) => l.code === "ERR_DIRECT_AUTH"));
    const ok = await dialDirect(dialOpts(kit.listener.port, t));
    await ok.close();
  });

  test("closes on an unknown session id and logs it", async () => {
    await using kit = await startKit();
    const t = { sessionId: "unknown1", password: "p", key: randomToken(32), callerId: "dev_nobody01" };
    expect(await codeOf(dialDirect(dialOpts(kit.listener.port, t)))).toBe("ERR_DIRECT_TRUNCATED");
    await waitFor(() => kit.logs.some((l) => l.code === "ERR_DIRECT_UNKNOWN_SESSION"));
  });

  test("the caller refuses a callee that does not echo its nonce, before sending anything else", async () => {
    // A fake callee that holds the key but answers with a fresh nonce instead of the caller's.
    const key = randomToken(32);
    let seenAfterRequest = 0;
    const server = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", async (first: Uint8Array) => {
        socket.pause();
        const p = decodePreamble(first)!;
        const conn = new DirectConnection({
          socket,
          key: await deriveConnectionKey(fromBase64url(key), p.preamble.salt),
          sessionId: p.preamble.sessionId,
          role: "callee",
          remote: "test",
          initial: [first.subarray(p.length)],
        });
        await conn.receive();
        await conn.send({
          type: "accepted",
          nonce: randomToken(16),
          calleeNonce: "x",
          expiresAt: Date.now() + 60_000,
        });
        try {
          while (await conn.receive()) seenAfterRequest++;
        } catch {
          // the caller hangs up
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const t = { sessionId: "fake1", password: "p", key, callerId: "dev_caller01" };
      expect(await codeOf(dialDirect(dialOpts(port, t)))).toBe("ERR_DIRECT_PEER_UNVERIFIED");
      expect(seenAfterRequest).toBe(0);
    } finally {
      server.close();
    }
  });

  test("never logs the password or the key", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    await dialDirect({ ...dialOpts(kit.listener.port, t), password: "wrong-pw" }).catch(() => {});
    await dialDirect({ ...dialOpts(kit.listener.port, t), key: randomToken(32) }).catch(() => {});
    const text = JSON.stringify(kit.logs);
    for (const secret of [t.password, t.key, "wrong-pw"]) expect(text).not.toContain(secret);
  });
});

describe("direct channel integrity after the handshake", () => {
  async function withProxy(onFrame: Parameters<typeof startProxy>[1], frameTimeoutMs?: number) {
    const kit = await startKit(frameTimeoutMs ? { frameTimeoutMs } : {});
    const t = kit.ticket();
    const proxy = await startProxy({ host: "127.0.0.1", port: kit.listener.port }, onFrame);
    const caller = await dialDirect(dialOpts(proxy.port, t));
    const callee = await kit.nextAccepted();
    const result = collect(callee.messages()).then(
      () => "ended",
      (e: DirectChannelError) => e.code,
    );
    const cleanup = async () => {
      caller.fail(new DirectChannelError("ERR_DIRECT_CLOSED", "test over"));
      await proxy.close();
      await kit.listener.close();
    };
    return { caller, callee, result, cleanup };
  }
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
    [
      "reordered frames",
      (() => {
        let held: Uint8Array | undefined;
        return (i: number, s: Uint8Array) => {
          if (i === 1) {
            held = s;
            return [];
          }
          return i === 2 && held ? [framed(s), framed(held)] : [framed(s)];
        };
      })(),
      "ERR_DIRECT_AUTH",
    ],
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
      const { caller, result, cleanup } = await withProxy(onFrame);
      try {
        await sendThree(caller).catch(() => {});
        expect(await result).toBe(code);
      } finally {
        await cleanup();
      }
    });
  }

  test("times out a frame that stalls half-way (slowloris)", async () => {
    const { caller, result, cleanup } = await withProxy(
      (i, s) => (i === 0 ? [framed(s)] : i === 1 ? [framed(s).subarray(0, 8)] : []),
      200,
    );
    try {
      await sendThree(caller).catch(() => {});
      expect(await result).toBe("ERR_DIRECT_TIMEOUT");
    } finally {
      await cleanup();
    }
  });
});

describe("direct channel session lease", () => {
  test("closes at expiresAt and both sides learn why", async () => {
    await using kit = await startKit();
    const t = kit.ticket({ expiresAt: Date.now() + 300 });
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const calleeSide = collect(callee.messages()).catch((e) => e);
    // Both ends hold the end time (the caller from ACCEPTED); whichever fires first, both learn "expired".
    const err = await collect(caller.messages()).catch((e) => e);
    expect(["ERR_DIRECT_EXPIRED", "ERR_DIRECT_CLOSED"]).toContain(err.code);
    expect(err.reason).toBe("expired");
    expect(await calleeSide).toMatchObject({ code: "ERR_DIRECT_EXPIRED", reason: "expired" });
  });

  test("stays open past the old end after extend()", async () => {
    await using kit = await startKit();
    const t = kit.ticket({ expiresAt: Date.now() + 300 });
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    kit.tickets.extend(t.sessionId, Date.now() + 60_000);
    caller.setExpiry(Date.now() + 60_000);
    await Bun.sleep(500); // past the original end: the point of the test is that nothing happens then
    await caller.send({ type: "end" });
    expect(await callee.receive()).toEqual({ type: "end" });
    await caller.close();
  });

  test("ends open channels when the session is ended", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
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
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
    const callee = await kit.nextAccepted();
    const total = 64 * 1024 * 1024;
    const sending = caller.sendData(new Uint8Array(total));
    sending.catch(() => {});
    await waitFor(() => callee.readPaused);
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
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const streams: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) streams.push(Uint8Array.from({ length: rnd() % 400 }, () => rnd() & 0xff));
      else {
        const tail = Uint8Array.from({ length: rnd() % 200 }, () => rnd() & 0xff);
        const b = new Uint8Array([...valid, ...tail]);
        if (i % 3 === 1) b[rnd() % b.length] = rnd() & 0xff;
        streams.push(b);
      }
    }
    for (let i = 0; i < streams.length; i += 30) {
      await Promise.all(
        streams.slice(i, i + 30).map((s) => rawExchange(kit.listener.port, s, { timeoutMs: 3000 })),
      );
    }
    const c = await dialDirect(dialOpts(kit.listener.port, t));
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
    await waitFor(() => kit.logs.some((l) => l.code === "ERR_DIRECT_FRAME_TOO_LARGE"));
  });
});

describe("direct channel throughput", () => {
  test("moves 256 MiB of sealed DATA over loopback (figure printed, not asserted)", async () => {
    await using kit = await startKit();
    const t = kit.ticket();
    const caller = await dialDirect(dialOpts(kit.listener.port, t));
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
