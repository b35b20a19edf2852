/** @module The probe programs: their parsers, their summaries, and the echo server under random datagrams. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import { createNetBed, type NetBed, NODE_ADDR } from "./net-bed.ts";
import { parseEndpoint, printable, summariseRtt } from "./probe.ts";

const PROBE = join(import.meta.dir, "probe.ts");

describe("parseEndpoint()", () => {
  test.each([
    ["100.64.1.2:40000", { address: "100.64.1.2", port: 40000 }],
    ["0.0.0.0:1", { address: "0.0.0.0", port: 1 }],
    ["255.255.255.255:65535", { address: "255.255.255.255", port: 65535 }],
  ])("parses %s", (text, want) => {
    expect(parseEndpoint(text)).toEqual(want);
  });

  test.each([
    ["", SyntaxError],
    ["100.64.1.2", SyntaxError],
    ["100.64.1:5", SyntaxError],
    ["[::1]:5", SyntaxError],
    ["100.64.1.2:5 ", SyntaxError],
    ["256.1.1.1:5", RangeError],
    ["1.1.1.1:0", RangeError],
    ["1.1.1.1:65536", RangeError],
  ])("rejects %p", (text, kind) => {
    expect(() => parseEndpoint(text)).toThrow(kind);
  });
});

describe("summariseRtt()", () => {
  test("reports loss and order statistics", () => {
    const r = summariseRtt(10, [5, 1, 3, 2, 4]);
    expect(r).toEqual({
      sent: 10,
      received: 5,
      lossPercent: 50,
      rttMs: { min: 1, median: 3, mean: 3, p95: 5, max: 5 },
    });
  });

  test("reports no RTT when nothing came back", () => {
    expect(summariseRtt(3, [])).toEqual({ sent: 3, received: 0, lossPercent: 100, rttMs: null });
    expect(summariseRtt(0, []).lossPercent).toBe(0);
  });
});

describe("printable()", () => {
  test.each([
    ["ascii text stays text", new TextEncoder().encode("hi there"), "hi there"],
    ["a newline becomes hex", new TextEncoder().encode("a\nb"), "hex:610a62"],
    ["binary becomes hex", new Uint8Array([0, 255]), "hex:00ff"],
  ])("%s", (_name, bytes, want) => {
    expect(printable(bytes)).toBe(want);
  });
});

describe("udp-echo under corruption", () => {
  let bed: NetBed;
  beforeAll(async () => {
    bed = await createNetBed({ homes: 1 });
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("500 random datagrams (0..1400 bytes) neither crash it nor break a line; it still answers", async () => {
    await using echo = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
    const port = Number((await echo.waitForLine(/^listening (\d+)$/))[1]);
    // The fuzzer runs in the home, so its datagrams cross the NAT like a recorder's would.
    const fuzz = `
const s = await Bun.udpSocket({ hostname: "0.0.0.0" });
for (let i = 0; i < 500; i++) {
  const b = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 1401)));
  s.send(b, ${port}, "${NODE_ADDR}");
  if (i % 10 === 0) await Bun.sleep(1);
}
s.close();`;
    await using sender = bed.runIn(bed.home(1).ns, [process.execPath, "-e", fuzz]);
    expect(await sender.exited).toBe(0);
    // A burst can overflow the echo's receive buffer, so the liveness check is retried until answered.
    await using client = bed.runIn(bed.home(1).ns, [
      process.execPath,
      PROBE,
      "udp-client",
      NODE_ADDR,
      `${port}`,
    ]);
    await client.waitForLine(/^bound/);
    await waitFor(
      "the echo to answer after the fuzz",
      () => {
        client.send("send after-fuzz");
        return client.lines.some((l) => / seen \S+ after-fuzz$/.test(l));
      },
      { intervalMs: 200 },
    );
    expect(echo.exitCode).toBeNull();
    for (const line of echo.outLines.slice(1)) {
      expect(line).toMatch(/^(from \d+\.\d+\.\d+\.\d+:\d+ (hex:[0-9a-f]*|[ -~]*)|error (send|socket) .*)$/);
    }
  });

  test("an unknown stdin command is reported, not fatal", async () => {
    await using echo = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
    await echo.waitForLine(/^listening/);
    echo.send("bogus \u0000 command");
    await echo.waitForLine(/^error unknown command bogus/);
    echo.send("push 100.64.1.2 9 still-alive");
    await echo.waitForLine(/^pushed 100\.64\.1\.2:9$/);
  });

  test("it survives a refused send and keeps answering", async () => {
    await using echo = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
    const port = (await echo.waitForLine(/^listening (\d+)$/))[1]!;
    // Pushes to a closed port draw ICMP port-unreachable, which Linux reports on the next send as ECONNREFUSED.
    for (let i = 0; i < 5; i++) echo.send(`push ${NODE_ADDR} 9 nobody-home-${i}`);
    await echo.waitForLine(/^(pushed|error push) \S+ ?.*nobody-home-4|^pushed 100\.64\.0\.1:9$/);
    await using client = bed.runIn(bed.home(1).ns, [process.execPath, PROBE, "udp-client", NODE_ADDR, port]);
    await client.waitForLine(/^bound/);
    client.send("send still-there");
    await client.waitForLine(/ seen \S+ still-there$/);
  });
});
