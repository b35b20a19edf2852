/** @module parseConntrackLine(): /proc/net/nf_conntrack lines, valid, malformed and random. */

import { describe, expect, test } from "bun:test";
import { parseConntrackLine, parseConntrackTable } from "./conntrack-table.ts";

const UDP =
  "ipv4     2 udp      17 28 src=192.168.1.2 dst=100.64.0.1 sport=40000 dport=5000 src=100.64.0.1 dst=100.64.1.2 sport=5000 dport=40000 [ASSURED] mark=0 zone=0 use=2";
const UDP_UNREPLIED =
  "ipv4     2 udp      17 1 src=192.168.1.2 dst=100.64.0.1 sport=40000 dport=5000 [UNREPLIED] src=100.64.0.1 dst=100.64.1.2 sport=5000 dport=1024 mark=0 zone=0 use=2";
const TCP =
  "ipv4     2 tcp      6 117 TIME_WAIT src=100.64.0.1 dst=100.64.2.2 sport=41000 dport=7000 src=192.168.2.2 dst=100.64.0.1 sport=7000 dport=41000 [ASSURED] mark=0 zone=0 use=2";
const ICMP =
  "ipv4     2 icmp     1 29 src=192.168.1.2 dst=100.64.0.1 type=8 code=0 id=7 src=100.64.0.1 dst=100.64.1.2 type=0 code=0 id=7 mark=0 zone=0 use=2";

describe("parseConntrackLine()", () => {
  test("parses an assured UDP mapping", () => {
    expect(parseConntrackLine(UDP)).toEqual({
      proto: "udp",
      timeoutSec: 28,
      orig: { src: "192.168.1.2", dst: "100.64.0.1", sport: 40000, dport: 5000 },
      reply: { src: "100.64.0.1", dst: "100.64.1.2", sport: 5000, dport: 40000 },
      assured: true,
    });
  });

  test("parses an unreplied UDP mapping whose port was changed by NAT", () => {
    const e = parseConntrackLine(UDP_UNREPLIED)!;
    expect(e.assured).toBe(false);
    expect(e.reply.dport).toBe(1024);
  });

  test("parses a TCP entry with its state word (a port-forwarded connection)", () => {
    const e = parseConntrackLine(TCP)!;
    expect(e.proto).toBe("tcp");
    expect(e.reply.src).toBe("192.168.2.2");
  });

  test("returns null for ICMP, which has no ports", () => {
    expect(parseConntrackLine(ICMP)).toBeNull();
  });

  test.each([
    ["an empty line", ""],
    ["a line without a family", "udp 17 28 src=1.2.3.4"],
    ["a protocol number that does not match", UDP.replace("udp      17", "udp      6")],
    ["a negative timeout", UDP.replace(" 28 ", " -1 ")],
    ["a single tuple", UDP.slice(0, UDP.indexOf(" src=100.64.0.1"))],
    ["a tuple without dport", UDP.replace(" dport=40000", "")],
    ["a non-numeric port", UDP.replace("sport=40000", "sport=x")],
  ])("rejects %s with SyntaxError", (_name, line) => {
    expect(() => parseConntrackLine(line)).toThrow(SyntaxError);
  });

  test("parseConntrackTable() skips blank and non-port lines", () => {
    expect(parseConntrackTable(`${UDP}\n\n${ICMP}\n${TCP}\n`).map((e) => e.proto)).toEqual(["udp", "tcp"]);
  });

  test("random corruption of valid lines never throws anything but SyntaxError", () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = " =.[]0123456789abcdefghijklmnopqrstuvwxyz\t";
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const chars = [...[UDP, TCP, ICMP, UDP_UNREPLIED][rand(4)]!];
      for (let k = rand(6); k >= 0; k--) {
        const at = rand(chars.length);
        if (rand(3) === 0) chars.splice(at, rand(20));
        else chars[at] = alphabet[rand(alphabet.length)]!;
      }
      try {
        parseConntrackLine(chars.join(""));
        parsed++;
      } catch (e) {
        expect(e).toBeInstanceOf(SyntaxError);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
