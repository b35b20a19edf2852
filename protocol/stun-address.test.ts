/** @module Tests for XOR-MAPPED-ADDRESS against the RFC 5769 vectors and edge addresses. */
import { describe, expect, test } from "bun:test";
import {
  decodeMappedAddress,
  decodeXorMappedAddress,
  encodeXorMappedAddress,
  formatIpv6,
  parseIpv4,
  parseIpv6,
  toTransportAddress,
} from "./stun-address.ts";
import { StunError } from "./stun-error.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
// RFC 5769 2.2 / 2.3: transaction id and XOR-MAPPED-ADDRESS values for 192.0.2.1:32853 and
// 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
const TXID = hex("b7e7a701bc34d686fa87dfae");
const RFC5769_V4 = hex("0001 a147 e112a643");
const RFC5769_V6 = hex("0002 a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9");

describe("XOR-MAPPED-ADDRESS", () => {
  test("decodeXorMappedAddress() reads the RFC 5769 IPv4 and IPv6 vectors", () => {
    expect(decodeXorMappedAddress(RFC5769_V4, TXID)).toEqual({
      family: "IPv4",
      address: "192.0.2.1",
      port: 32853,
    });
    expect(decodeXorMappedAddress(RFC5769_V6, TXID)).toEqual({
      family: "IPv6",
      address: "2001:db8:1234:5678:11:2233:4455:6677",
      port: 32853,
    });
  });

  test("encodeXorMappedAddress() reproduces the RFC 5769 vectors", () => {
    const v4 = encodeXorMappedAddress({ family: "IPv4", address: "192.0.2.1", port: 32853 }, TXID);
    expect(Buffer.from(v4).toString("hex")).toBe(Buffer.from(RFC5769_V4).toString("hex"));
    const v6 = encodeXorMappedAddress(
      { family: "IPv6", address: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853 },
      TXID,
    );
    expect(Buffer.from(v6).toString("hex")).toBe(Buffer.from(RFC5769_V6).toString("hex"));
  });

  test("encodeXorMappedAddress() round-trips edge addresses and ports", () => {
    const table = [
      { family: "IPv4", address: "0.0.0.0", port: 0 },
      { family: "IPv4", address: "255.255.255.255", port: 65535 },
      { family: "IPv6", address: "::", port: 1 },
      { family: "IPv6", address: "::1", port: 443 },
      { family: "IPv6", address: "fe80::1:0:0:1", port: 5000 },
    ] as const;
    for (const a of table) expect(decodeXorMappedAddress(encodeXorMappedAddress(a, TXID), TXID)).toEqual(a);
  });

  test("decodeXorMappedAddress() rejects bad family and bad lengths", () => {
    for (const v of [hex("0003a147e112a643"), hex("0001a147e112a6"), hex("0002a147e112a643"), hex("00")]) {
      expect(() => decodeXorMappedAddress(v, TXID)).toThrow(StunError);
    }
    expect(() => decodeMappedAddress(hex("00"))).toThrow(StunError);
  });

  test("decodeMappedAddress() reads a plain address", () => {
    expect(decodeMappedAddress(hex("0001 1f90 7f000001"))).toEqual({
      family: "IPv4",
      address: "127.0.0.1",
      port: 8080,
    });
  });
});

describe("IP text forms", () => {
  test("parseIpv6() and formatIpv6() follow RFC 5952", () => {
    const table: Array<[string, string]> = [
      ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["::ffff:192.0.2.1", "::ffff:c000:201"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ];
    for (const [input, canonical] of table) expect(formatIpv6(parseIpv6(input)!)).toBe(canonical);
  });

  test("parseIpv6() and parseIpv4() reject malformed text", () => {
    for (const s of ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "1:2:3:4:5:6:7", "::1.2.3.256", ""]) {
      expect(parseIpv6(s)).toBeNull();
    }
    for (const s of [
      "1.2.3",
      "256.1.1.1",
      "1.2.3.4.5",
      "a.b.c.d",
      "",
      ".1.2.3",
      "1..2.3",
      "1.2.3.",
      "1.2.3.256",
      "0001.2.3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.-4",
      "1.2.3.4\n",
    ])
      expect({ s, parsed: parseIpv4(s) }).toEqual({ s, parsed: null });
  });

  test("parseIpv4() reads every dotted quad as the four numbers it spells", () => {
    const cases: Array<[string, number[]]> = [
      ["0.0.0.0", [0, 0, 0, 0]],
      ["127.0.0.1", [127, 0, 0, 1]],
      ["255.255.255.255", [255, 255, 255, 255]],
      ["192.0.2.1", [192, 0, 2, 1]],
      ["010.001.000.009", [10, 1, 0, 9]],
    ];
    for (const [s, bytes] of cases) expect(Array.from(parseIpv4(s) ?? [])).toEqual(bytes);
    // Against the dotted-quad rule itself on random input: same verdict, same bytes.
    const rule = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
    const alphabet = "0123456789.9.1a ";
    for (let i = 0; i < 20_000; i++) {
      const s = Array.from({ length: 1 + Math.floor(Math.random() * 16) }, () =>
        alphabet.charAt(Math.floor(Math.random() * alphabet.length)),
      ).join("");
      const m = rule.exec(s);
      const want = m?.slice(1).every((g) => Number(g) <= 255) ? m.slice(1).map(Number) : null;
      const got = parseIpv4(s);
      expect({ s, got: got && Array.from(got) }).toEqual({ s, got: want });
    }
  });

  test("toTransportAddress() reports an IPv4-mapped IPv6 peer as IPv4", () => {
    expect(toTransportAddress("::ffff:127.0.0.1", 9)).toEqual({
      family: "IPv4",
      address: "127.0.0.1",
      port: 9,
    });
    expect(toTransportAddress("::1", 9)).toEqual({ family: "IPv6", address: "::1", port: 9 });
    expect(() => toTransportAddress("example.org", 9)).toThrow(TypeError);
  });
});
