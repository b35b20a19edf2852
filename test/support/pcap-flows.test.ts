/** @module Tests for readPcapFlows(): flows joined across segments, other packets skipped, damaged files refused. */
import { describe, expect, test } from "bun:test";
import { readPcapFlows } from "./pcap-flows.ts";

function globalHeader(linkType = 1, magic = 0xa1b2c3d4): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(magic, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

/** One Ethernet + IPv4 + TCP/UDP packet as a pcap record. */
function packet(o: {
  proto: 6 | 17;
  sport: number;
  dport: number;
  payload: string;
  etherType?: number;
}): Buffer {
  const l4 = Buffer.alloc(o.proto === 6 ? 20 : 8);
  l4.writeUInt16BE(o.sport, 0);
  l4.writeUInt16BE(o.dport, 2);
  if (o.proto === 6) l4[12] = 5 << 4;
  const body = Buffer.concat([l4, Buffer.from(o.payload)]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + body.byteLength, 2);
  ip[9] = o.proto;
  ip.set([127, 0, 0, 1], 12);
  ip.set([127, 0, 0, 1], 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(o.etherType ?? 0x0800, 12);
  const data = Buffer.concat([eth, ip, body]);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(data.byteLength, 8);
  rec.writeUInt32LE(data.byteLength, 12);
  return Buffer.concat([rec, data]);
}

describe("readPcapFlows()", () => {
  test("readPcapFlows() joins a TCP flow's segments and keeps UDP flows apart", () => {
    const file = Buffer.concat([
      globalHeader(),
      packet({ proto: 6, sport: 5000, dport: 443, payload: '{"pass' }),
      packet({ proto: 17, sport: 6000, dport: 3478, payload: "dev_abc" }),
      packet({ proto: 6, sport: 5000, dport: 443, payload: 'word":1}' }),
      packet({ proto: 6, sport: 443, dport: 5000, payload: "" }),
      packet({ proto: 6, sport: 1, dport: 2, payload: "ipv6?", etherType: 0x86dd }),
    ]);
    const flows = readPcapFlows(file);
    expect(flows.map((f) => [f.id, f.payload.toString(), f.packets])).toEqual([
      ["tcp 127.0.0.1:5000>127.0.0.1:443", '{"password":1}', 2],
      ["udp 127.0.0.1:6000>127.0.0.1:3478", "dev_abc", 1],
      ["tcp 127.0.0.1:443>127.0.0.1:5000", "", 1],
    ]);
  });

  test.each([
    ["a file shorter than its header", Buffer.alloc(10), RangeError, "shorter than its header"],
    ["a big-endian or foreign magic", globalHeader(1, 0x0a0d0d0a), SyntaxError, "magic"],
    ["an unknown link type", globalHeader(228), TypeError, "link type 228"],
    [
      "a record header cut short",
      Buffer.concat([globalHeader(), Buffer.alloc(8)]),
      RangeError,
      "record header cut",
    ],
    [
      "a packet cut short",
      Buffer.concat([
        globalHeader(),
        packet({ proto: 17, sport: 1, dport: 2, payload: "x" }).subarray(0, 30),
      ]),
      RangeError,
      "packet cut",
    ],
  ])("readPcapFlows() rejects %s", (_what, file, kind, message) => {
    expect(() => readPcapFlows(file)).toThrow(kind);
    expect(() => readPcapFlows(file)).toThrow(message);
  });

  test("readPcapFlows() never throws anything but its three errors on random damage", () => {
    const good = Buffer.concat([
      globalHeader(),
      packet({ proto: 6, sport: 5000, dport: 443, payload: "hello" }),
      packet({ proto: 17, sport: 6000, dport: 3478, payload: "world" }),
    ]);
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const bad = Buffer.from(good.subarray(0, 24 + (next() % (good.length - 23))));
      for (let k = 0; k < 3; k++) bad[24 + (next() % Math.max(1, bad.length - 24))] = next() & 0xff;
      try {
        readPcapFlows(bad);
      } catch (err) {
        expect([RangeError, SyntaxError, TypeError].some((c) => err instanceof c)).toBe(true);
      }
    }
  });
});
