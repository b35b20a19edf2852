/** @module What the bed's NAT routers do to real traffic: masquerade, mapping lifetime, filtering, forwards, address change. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ChildProcess } from "../../demo/child-process.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { createNetBed, type NetBed, NODE_ADDR } from "./net-bed.ts";
import { parseEndpoint } from "./probe.ts";

const PROBE = join(import.meta.dir, "probe.ts");
const UDP_TIMEOUT_SEC = 2;

let bed: NetBed;
beforeAll(async () => {
  bed = await createNetBed({ udpTimeoutSec: UDP_TIMEOUT_SEC });
});
afterAll(async () => {
  await bed?.destroy();
});

function probe(ns: string, ...args: string[]): ChildProcess {
  return bed.runIn(ns, [process.execPath, PROBE, ...args], { label: `probe ${args[0]} in ${ns}` });
}

async function echoServer(): Promise<{ proc: ChildProcess; port: string }> {
  const proc = probe(bed.wan.ns, "udp-echo");
  return { proc, port: (await proc.waitForLine(/^listening (\d+)$/))[1]! };
}

async function udpClient(home: number, port: string): Promise<{ proc: ChildProcess; lanPort: number }> {
  const proc = probe(bed.home(home).ns, "udp-client", NODE_ADDR, port);
  return { proc, lanPort: Number((await proc.waitForLine(/^bound (\d+)$/))[1]) };
}

/** Sends `text` from the client and returns the public endpoint the echo server saw it come from. */
async function observed(
  client: ChildProcess,
  echo: ChildProcess,
  text: string,
): Promise<{ address: string; port: number }> {
  const since = echo.mark();
  client.send(`send ${text}`);
  return parseEndpoint((await echo.waitForLine(new RegExp(`^from (\\S+) ${text}$`), { since }))[1]!);
}

/** Has the echo push `text` to `to` and returns once it is sent. A test proves such a push was dropped by
 *  following it with one that must arrive on the same path and then finding the first absent: one path,
 *  no reordering, so a dropped push is the only way the first can be missing once the second is there. */
async function push(echo: ChildProcess, to: string, text: string): Promise<void> {
  const since = echo.mark();
  echo.send(`push ${to.replace(":", " ")} ${text}`);
  await echo.waitForLine(new RegExp(`^pushed ${to}$`), { since });
}

/** A push that should arrive: waits for it with a deadline. */
async function pushArrives(
  echo: ChildProcess,
  client: ChildProcess,
  to: string,
  text: string,
): Promise<boolean> {
  const since = client.mark();
  await push(echo, to, text);
  await client.waitForLine(new RegExp(` ${text}$`), { since, timeoutMs: 3000 });
  return true;
}

function received(client: ChildProcess, text: string): boolean {
  return client.lines.some((l) => l.endsWith(` ${text}`));
}

describe("net bed NAT", () => {
  test("masquerade: the wan sees the router's wan address, not the home host's LAN address", async () => {
    await using echo = (await echoServer()).proc;
    const c = await udpClient(1, echo.outLines[0]!.split(" ")[1]!);
    await using client = c.proc;
    const seen = await observed(client, echo, "hello-1");
    expect(seen.address).toBe(bed.home(1).wanAddr);
    expect(seen.address).not.toBe(bed.home(1).lanAddr);
    const reply = await client.waitForLine(/^recv (\S+) seen (\S+) hello-1$/);
    expect(reply[1]).toBe(`${NODE_ADDR}:${echo.outLines[0]!.split(" ")[1]}`);
    expect(reply[2]).toBe(`${seen.address}:${seen.port}`);
  });

  test("port-preserving masquerade: the LAN port is kept and every wan destination sees the same mapping", async () => {
    const a = await echoServer();
    const b = await echoServer();
    await using ea = a.proc;
    await using eb = b.proc;
    const c = await udpClient(1, a.port);
    await using client = c.proc;
    const seenA = await observed(client, ea, "to-a");
    const since = eb.mark();
    client.send(`sendto ${NODE_ADDR} ${b.port} to-b`);
    const seenB = parseEndpoint((await eb.waitForLine(/^from (\S+) to-b$/, { since }))[1]!);
    expect(seenA.port).toBe(c.lanPort);
    expect(seenB).toEqual(seenA);
  });

  test("a fresh mapping lets the wan push to the home host; it expires after the router's UDP timeout", async () => {
    const e = await echoServer();
    await using echo = e.proc;
    await using client = (await udpClient(1, e.port)).proc;
    const seen = await observed(client, echo, "open");
    const to = `${seen.address}:${seen.port}`;
    await client.waitForLine(/ seen \S+ open$/);
    expect(await pushArrives(echo, client, to, "fresh-push")).toBe(true);
    // Wait on the router's own table, not a fixed sleep: the mapping is gone when conntrack says so.
    await waitFor(
      "the router's UDP mapping to expire",
      async () => !(await bed.mappings(1)).some((m) => m.proto === "udp" && m.reply.dport === seen.port),
      { timeoutMs: (UDP_TIMEOUT_SEC + 5) * 1000, intervalMs: 100 },
    );
    await push(echo, to, "late-push");
    // Reopening the mapping proves the path itself still works, and UDP order on it proves "late-push"
    // was dropped at the router rather than still in flight. The router made a conntrack entry for the
    // unsolicited late push, which now holds the old port: the new mapping gets another one.
    const reopened = await observed(client, echo, "reopen");
    expect(reopened.port).not.toBe(seen.port);
    expect(await pushArrives(echo, client, `${reopened.address}:${reopened.port}`, "after-reopen")).toBe(
      true,
    );
    expect(received(client, "late-push")).toBe(false);
  }, 20_000);

  test("a keepalive at a third of the UDP timeout holds one mapping open past the timeout", async () => {
    const e = await echoServer();
    await using echo = e.proc;
    await using client = (await udpClient(1, e.port)).proc;
    const first = await observed(client, echo, "ka-0");
    const started = performance.now();
    for (let i = 1; performance.now() - started < UDP_TIMEOUT_SEC * 2000; i++) {
      await Bun.sleep((UDP_TIMEOUT_SEC * 1000) / 3); // the keepalive interval under test, not a synchronisation
      expect(await observed(client, echo, `ka-${i}`)).toEqual(first);
    }
    expect(await pushArrives(echo, client, `${first.address}:${first.port}`, "ka-push")).toBe(true);
  }, 20_000);

  test("filtering: only the wan endpoint the home sent to can push through the mapping", async () => {
    const a = await echoServer();
    const b = await echoServer();
    await using ea = a.proc;
    await using eb = b.proc;
    await using client = (await udpClient(1, a.port)).proc;
    const seen = await observed(client, ea, "only-a");
    const to = `${seen.address}:${seen.port}`;
    await client.waitForLine(/ only-a$/);
    // eb is the same host, another port: address-and-port-dependent filtering refuses it.
    await push(eb, to, "from-b");
    expect(await pushArrives(ea, client, to, "from-a")).toBe(true);
    expect(received(client, "from-b")).toBe(false);
  });

  test("a TCP connect from the wan to a home host fails without a port forward and succeeds with one", async () => {
    const listen = probe(bed.home(2).ns, "tcp-listen");
    await using _l = listen;
    const port = (await listen.waitForLine(/^listening (\d+)$/))[1]!;
    const connect = async (ns: string) => {
      const p = probe(ns, "tcp-connect", bed.home(2).wanAddr, port, "3000");
      await p.exited;
      return p.lines.join(" ");
    };
    expect(await connect(bed.wan.ns)).toBe("failed ECONNREFUSED");
    await bed.portForward(2, { proto: "tcp", wanPort: Number(port), lanPort: Number(port) });
    expect(await connect(bed.wan.ns)).toBe(`connected hello from ${bed.home(2).lanAddr}:${port}`);
    // The peer-to-peer direct path: a host behind the other NAT reaches the forwarded port too.
    const since = listen.mark();
    expect(await connect(bed.home(1).ns)).toBe(`connected hello from ${bed.home(2).lanAddr}:${port}`);
    const accepted = await listen.waitForLine(/^accepted (\S+)$/, { since });
    expect(parseEndpoint(accepted[1]!).address).toBe(bed.home(1).wanAddr);
  });

  test("flushConntrack() (a router reboot) drops live mappings", async () => {
    const e = await echoServer();
    await using echo = e.proc;
    await using client = (await udpClient(1, e.port)).proc;
    const seen = await observed(client, echo, "pre-flush");
    await client.waitForLine(/ pre-flush$/);
    await bed.flushConntrack(1);
    expect((await bed.mappings(1)).filter((m) => m.proto === "udp")).toEqual([]);
    const to = `${seen.address}:${seen.port}`;
    await push(echo, to, "post-flush");
    const reopened = await observed(client, echo, "reopen-after-flush");
    expect(
      await pushArrives(echo, client, `${reopened.address}:${reopened.port}`, "after-flush-reopen"),
    ).toBe(true);
    expect(received(client, "post-flush")).toBe(false);
  });

  test("after a wan address change the wan sees the new address and the old mapping is gone", async () => {
    const e = await echoServer();
    await using echo = e.proc;
    await using client = (await udpClient(1, e.port)).proc;
    const before = await observed(client, echo, "addr-before");
    expect(before.address).toBe(bed.home(1).wanAddr);
    const next = await bed.changeWanAddress(1);
    expect(next).not.toBe(before.address);
    expect((await bed.mappings(1)).some((m) => m.reply.dst === before.address)).toBe(false);
    const after = await observed(client, echo, "addr-after");
    expect(after.address).toBe(next);
    await client.waitForLine(/ addr-after$/);
    // Nobody owns the old address any more, so this push cannot be delivered however long one waits.
    await push(echo, `${before.address}:${before.port}`, "to-old");
    expect(await pushArrives(echo, client, `${after.address}:${after.port}`, "to-new")).toBe(true);
    expect(received(client, "to-old")).toBe(false);
  });
});
