/** @module Tests for UdpEndpoint on a real socket: keepalives, triggers and their ACKs, floods, garbage and vanished peers. */
import { describe, expect, test } from "bun:test";
import { deriveKey } from "../../crypto/hmac.ts";
import { waitFor } from "../../demo/wait-for.ts";
import {
  buildKeepalive,
  KEEPALIVE_WINDOW_MS,
  readKeepaliveResponse,
} from "../../protocol/keepalive-request.ts";
import { decodeXorMappedAddress } from "../../protocol/stun-address.ts";
import { decodeErrorCode } from "../../protocol/stun-attributes.ts";
import {
  ATTR_ERROR_CODE,
  ATTR_XOR_MAPPED_ADDRESS,
  BINDING_REQUEST,
  BINDING_SUCCESS,
} from "../../protocol/stun-constants.ts";
import { decodeStunMessage, encodeStunMessage, findAttribute } from "../../protocol/stun-message.ts";
import {
  encodeTriggerAck,
  isTriggerDatagram,
  type Trigger,
  TriggerReplayGuard,
  verifyTrigger,
} from "../../protocol/trigger-datagram.ts";
import { REPLY_BATCH, UdpEndpoint } from "./udp-endpoint.ts";

const SECRETS = new Map([
  ["dev_alice", new Uint8Array(32).fill(11)],
  ["dev_bob", new Uint8Array(32).fill(22)],
]);

/** A device's UDP side, as the firmware will run it: keepalives out, triggers in, ACKs back. */
class TestDevice {
  readonly received: Uint8Array[] = [];
  readonly triggers: Trigger[] = [];
  readonly guard = new TriggerReplayGuard();
  /** Decides the ACK for a fresh trigger; null means stay silent (a lost datagram, from the node's view). */
  answer: (t: Trigger, copy: number) => string | null | undefined = () => undefined;
  copies = new Map<string, number>();
  private constructor(
    readonly id: string,
    readonly socket: Bun.udp.Socket<"buffer">,
    readonly node: { port: number },
  ) {}

  static async open(id: string, node: { port: number }, hostname = "127.0.0.1"): Promise<TestDevice> {
    let dev: TestDevice | undefined;
    const socket = await Bun.udpSocket({
      hostname,
      port: 0,
      socket: {
        data(_s, data) {
          dev?.onData(new Uint8Array(data));
        },
      },
    });
    dev = new TestDevice(id, socket, node);
    return dev;
  }

  get secret() {
    return SECRETS.get(this.id) ?? new Uint8Array(32);
  }

  onData(b: Uint8Array) {
    this.received.push(b);
    if (!isTriggerDatagram(b)) return;
    const key = deriveKey(this.secret, "trigger");
    const t = verifyTrigger(b, key, { deviceId: this.id, now: Date.now() });
    const n = (this.copies.get(t.id) ?? 0) + 1;
    this.copies.set(t.id, n);
    if (this.guard.admit(t, Date.now()) === "new") this.triggers.push(t);
    const answer = this.answer(t, n);
    if (answer === null) return;
    this.send(
      encodeTriggerAck(
        { id: t.id, deviceId: this.id, timestamp: Date.now(), ...(answer ? { answer } : {}) },
        key,
      ),
    );
  }

  send(b: Uint8Array) {
    this.socket.send(b, this.node.port, "127.0.0.1");
  }

  /** Sends bytes and waits for the next STUN datagram back. */
  async exchange(b: Uint8Array): Promise<Uint8Array> {
    const before = this.received.length;
    this.send(b);
    return waitFor("a STUN response", () => this.received.slice(before).find((x) => !isTriggerDatagram(x)));
  }

  keepalive(opts: { now?: number; key?: Uint8Array; intervalSec?: number } = {}) {
    return buildKeepalive({
      deviceId: this.id,
      key: opts.key ?? deriveKey(this.secret, "stun"),
      now: opts.now ?? Date.now(),
      intervalSec: opts.intervalSec ?? 25,
    });
  }

  /** Sends a fresh keepalive and reads the mapped address from the node's authenticated answer. */
  async mapped(opts: { intervalSec?: number } = {}) {
    const k = this.keepalive(opts);
    const reply = await this.exchange(k.bytes);
    return readKeepaliveResponse(reply, {
      key: deriveKey(this.secret, "stun"),
      transactionId: k.transactionId,
    });
  }

  get port() {
    return this.socket.port;
  }

  [Symbol.dispose]() {
    this.socket.close();
  }
}

async function startEndpoint(extra: Partial<Parameters<typeof UdpEndpoint.start>[0]> = {}) {
  const sink: Array<[string, string, number, number]> = [];
  const logs: string[] = [];
  const ep = await UdpEndpoint.start({
    host: "127.0.0.1",
    port: 0,
    lookupSecret: (id) => SECRETS.get(id) ?? null,
    onKeepalive: (...a) => sink.push(a),
    log: (m) => logs.push(m),
    ...extra,
  });
  return { ep, sink, logs };
}

const errorCodeOf = (b: Uint8Array) => {
  const m = decodeStunMessage(b);
  const ec = findAttribute(m, ATTR_ERROR_CODE);
  return ec ? decodeErrorCode(ec.value).code : 0;
};

describe("UdpEndpoint keepalives", () => {
  test("an authenticated keepalive gets its XOR-MAPPED-ADDRESS and registers the mapping", async () => {
    const { ep, sink } = await startEndpoint();
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    expect(await dev.mapped({ intervalSec: 30 })).toEqual({
      family: "IPv4",
      address: "127.0.0.1",
      port: dev.port,
    });
    expect(sink).toEqual([["dev_alice", "127.0.0.1", dev.port, 30]]);
    expect(ep.mapping("dev_alice")).toMatchObject({ address: "127.0.0.1", port: dev.port, intervalSec: 30 });
    expect(ep.isConnected("dev_alice")).toBe(true);
  });

  test("an unauthenticated Binding Request gets a plain response and registers nothing", async () => {
    const { ep, sink } = await startEndpoint();
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    const txid = crypto.getRandomValues(new Uint8Array(12));
    const reply = decodeStunMessage(
      await dev.exchange(encodeStunMessage({ type: BINDING_REQUEST, transactionId: txid })),
    );
    expect(reply.type).toBe(BINDING_SUCCESS);
    const xma = decodeXorMappedAddress(findAttribute(reply, ATTR_XOR_MAPPED_ADDRESS)!.value, txid);
    expect(xma.port).toBe(dev.port);
    expect(sink).toEqual([]);
    expect(ep.stats.plainBindings).toBe(1);
  });

  test("bad integrity, unknown device, replay and stale timestamps get 401 and register nothing", async () => {
    const { ep, sink } = await startEndpoint();
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    using stranger = await TestDevice.open("dev_mallory", ep.address);
    expect(errorCodeOf(await dev.exchange(dev.keepalive({ key: new Uint8Array(32).fill(1) }).bytes))).toBe(
      401,
    );
    expect(errorCodeOf(await stranger.exchange(stranger.keepalive().bytes))).toBe(401);
    expect(
      errorCodeOf(await dev.exchange(dev.keepalive({ now: Date.now() - KEEPALIVE_WINDOW_MS - 5000 }).bytes)),
    ).toBe(401);
    expect(
      errorCodeOf(await dev.exchange(dev.keepalive({ now: Date.now() + KEEPALIVE_WINDOW_MS + 5000 }).bytes)),
    ).toBe(401);
    expect(sink).toEqual([]);
    const k = dev.keepalive();
    expect(errorCodeOf(await dev.exchange(k.bytes))).toBe(0);
    expect(errorCodeOf(await dev.exchange(k.bytes))).toBe(401);
    expect(sink.length).toBe(1);
  });

  test("a new source mapping for the same device is recorded and the latest wins", async () => {
    const { ep, sink, logs } = await startEndpoint();
    await using _ = ep;
    using first = await TestDevice.open("dev_alice", ep.address);
    using second = await TestDevice.open("dev_alice", ep.address);
    await first.exchange(first.keepalive().bytes);
    await second.exchange(second.keepalive().bytes);
    expect(sink.map((s) => s[2])).toEqual([first.port, second.port]);
    expect(ep.mapping("dev_alice")?.port).toBe(second.port);
    expect(logs.some((l) => l.includes("mapping of dev_alice changed"))).toBe(true);
  });

  test("a flood of garbage from another source does not stop it answering", async () => {
    const { ep, sink } = await startEndpoint({ rateLimit: { perSecond: 50, burst: 100 } });
    await using _ = ep;
    using flooder = await TestDevice.open("dev_bob", ep.address, "127.0.0.2");
    using dev = await TestDevice.open("dev_alice", ep.address);
    const good = flooder.keepalive().bytes;
    const packets: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = i % 4;
      if (kind === 0) packets.push(crypto.getRandomValues(new Uint8Array(1 + (i % 300))));
      else if (kind === 1) packets.push(good.subarray(0, i % good.byteLength));
      else if (kind === 2) {
        const b = new Uint8Array(good);
        b[i % b.byteLength] = b[i % b.byteLength]! ^ 0x10;
        packets.push(b);
      } else
        packets.push(
          Uint8Array.from([0x50, 0x56, 0x54, 0x47, ...crypto.getRandomValues(new Uint8Array(80))]),
        );
    }
    // Sent in bursts with a yield between them, so loopback's receive buffer does not simply discard the flood.
    for (let i = 0; i < packets.length; i++) {
      flooder.send(packets[i]!);
      if (i % 100 === 99) await Bun.sleep(1);
    }
    await waitFor("the flood to arrive", () => ep.stats.datagrams >= 1500, { timeoutMs: 4000 });
    expect((await dev.mapped()).port).toBe(dev.port);
    expect(ep.stats.rateLimited).toBeGreaterThan(0);
    expect(sink.map((s) => s[0])).toEqual(["dev_alice"]);
  });

  test("replies to a device that vanished (ICMP port unreachable) do not stop the endpoint", async () => {
    const { ep, sink } = await startEndpoint();
    await using _ = ep;
    for (let i = 0; i < 5; i++) {
      const gone = await TestDevice.open("dev_bob", ep.address);
      const k = gone.keepalive();
      gone.send(k.bytes);
      gone.socket.close();
      await waitFor("the vanished device's keepalive", () => sink.length > i);
    }
    using dev = await TestDevice.open("dev_alice", ep.address);
    expect((await dev.mapped()).port).toBe(dev.port);
  });

  test("keepalives handled in one turn are all answered, past REPLY_BATCH and across close()", async () => {
    const { ep, sink } = await startEndpoint({ rateLimit: false });
    using dev = await TestDevice.open("dev_alice", ep.address);
    const sent = Array.from({ length: 3 * REPLY_BATCH + 5 }, () => dev.keepalive());
    for (const k of sent) ep.onDatagram(k.bytes, "127.0.0.1", dev.port);
    await ep.close(); // the last, partial batch leaves before the socket closes
    const key = deriveKey(dev.secret, "stun");
    await waitFor("every answer", () => dev.received.length >= sent.length);
    const ports = dev.received.map((b, i) => readKeepaliveResponse(b, { key, ...sent[i]! }).port);
    expect(ports).toEqual(sent.map(() => dev.port));
    expect(sink.length).toBe(sent.length);
  });

  test("an answer to a vanished device does not cost the answers batched after it", async () => {
    const { ep } = await startEndpoint({ rateLimit: false });
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    const gone = await TestDevice.open("dev_bob", ep.address);
    const gonePort = gone.port;
    gone.socket.close();
    // In one turn: the answer to the closed port draws an ICMP error that sendmmsg(2) meets on the next one.
    for (let i = 0; i < 3; i++) {
      ep.onDatagram(gone.keepalive().bytes, "127.0.0.1", gonePort);
      ep.onDatagram(dev.keepalive().bytes, "127.0.0.1", dev.port);
    }
    await waitFor("alice's three answers", () => dev.received.length === 3);
  });

  test("onDatagram() never throws, whatever it is fed", async () => {
    const { ep } = await startEndpoint({ rateLimit: false });
    await using _ = ep;
    const k = buildKeepalive({
      deviceId: "dev_alice",
      key: deriveKey(SECRETS.get("dev_alice")!, "stun"),
      now: Date.now(),
    });
    for (let n = 0; n <= k.bytes.byteLength; n++) ep.onDatagram(k.bytes.subarray(0, n), "127.0.0.1", 9);
    for (let i = 0; i < 3000; i++)
      ep.onDatagram(crypto.getRandomValues(new Uint8Array(i % 200)), "127.0.0.1", 9);
    ep.onDatagram(k.bytes, "not-an-ip", 9);
    expect(ep.stats.dropped).toBeGreaterThan(0);
  });
});

describe("UdpEndpoint triggers", () => {
  test("a trigger is retried until the device ACKs, and the answer comes back", async () => {
    const { ep } = await startEndpoint();
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    await dev.exchange(dev.keepalive().bytes);
    dev.answer = (_t, copy) => (copy < 3 ? null : "busy");
    const r = await ep.trigger("dev_alice", "status", { caller: "dev_bob" }, { deadlineMs: 3000 });
    expect(r).toEqual({ answer: "busy" });
    expect(dev.triggers.length).toBe(1);
    expect(dev.triggers[0]).toMatchObject({ kind: "status", ref: { caller: "dev_bob" } });
    expect(dev.copies.get(dev.triggers[0]!.id)).toBe(3);
  });

  test("trigger() keys a trigger with the device's current secret: a new secret replaces the cached key", async () => {
    SECRETS.set("dev_carol", new Uint8Array(32).fill(44));
    try {
      const { ep } = await startEndpoint();
      await using _ = ep;
      using dev = await TestDevice.open("dev_carol", ep.address);
      await dev.exchange(dev.keepalive().bytes);
      dev.answer = () => "acceptable";
      expect(await ep.trigger("dev_carol", "status", {}, { deadlineMs: 2000 })).toEqual({
        answer: "acceptable",
      });
      // Both sides move to a new secret (as after a re-enrollment): a key kept from the old one would not verify.
      SECRETS.set("dev_carol", new Uint8Array(32).fill(55));
      expect(await ep.trigger("dev_carol", "status", {}, { deadlineMs: 2000 })).toEqual({
        answer: "acceptable",
      });
      expect(dev.triggers.length).toBe(2);
    } finally {
      SECRETS.delete("dev_carol");
    }
  });

  test("trigger() resolves null without a mapping and after the deadline when nobody ACKs", async () => {
    const { ep } = await startEndpoint();
    await using _ = ep;
    expect(await ep.trigger("dev_alice", "contact", {})).toBeNull();
    using dev = await TestDevice.open("dev_alice", ep.address);
    await dev.exchange(dev.keepalive().bytes);
    dev.answer = () => null;
    const t0 = Date.now();
    expect(await ep.trigger("dev_alice", "contact", {}, { deadlineMs: 400 })).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(dev.triggers.length).toBe(1);
  });

  test("forged and replayed ACKs are ignored", async () => {
    const { ep } = await startEndpoint();
    await using _ = ep;
    using dev = await TestDevice.open("dev_alice", ep.address);
    await dev.exchange(dev.keepalive().bytes);
    // First trigger: answered normally; keep its ACK to replay later.
    let firstAck: Uint8Array | undefined;
    dev.answer = () => "allow";
    const origSend = dev.send.bind(dev);
    dev.send = (b) => {
      if (isTriggerDatagram(b)) firstAck ??= b;
      origSend(b);
    };
    expect(await ep.trigger("dev_alice", "verdict", { caller: { id: "dev_bob", name: "bob" } })).toEqual({
      answer: "allow",
    });
    dev.send = origSend;
    // Second trigger: the device stays silent; an attacker replays the old ACK and forges one with a wrong key.
    dev.answer = () => null;
    const pending = ep.trigger(
      "dev_alice",
      "verdict",
      { caller: { id: "dev_bob", name: "bob" } },
      { deadlineMs: 800 },
    );
    const t = await waitFor("the second trigger", () => dev.triggers[1]);
    const before = ep.stats.dropped;
    dev.send(firstAck!);
    dev.send(
      encodeTriggerAck(
        { id: t.id, deviceId: "dev_alice", answer: "allow", timestamp: Date.now() },
        new Uint8Array(32),
      ),
    );
    await waitFor("the forged ACK to be dropped", () => ep.stats.dropped > before);
    expect(await pending).toBeNull();
    expect(ep.stats.acks).toBe(1);
  });
});
