/** @module publicAddresses(): what a serving node tells recorders, from --public-url, the config or the bound address. */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../cli/command.ts";
import { publicAddresses } from "./public-addresses.ts";

const bound = (http: string, udp: string) => {
  const hp = (s: string) => {
    const i = s.lastIndexOf(":");
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  };
  return { http: hp(http), udp: hp(udp) };
};
type Pub = { publicHttp: string | null; publicUdp: string | null };
const none: Pub = { publicHttp: null, publicUdp: null };

describe("publicAddresses()", () => {
  const valid: [string, ReturnType<typeof bound>, Pub, string | undefined, string, string][] = [
    [
      "uses the bound address",
      bound("127.0.0.1:8660", "127.0.0.1:3479"),
      none,
      undefined,
      "http://127.0.0.1:8660",
      "127.0.0.1:3479",
    ],
    [
      "takes --public-url over everything",
      bound("0.0.0.0:8650", "0.0.0.0:3478"),
      { publicHttp: "a.example:1", publicUdp: null },
      "https://node.example.org:8443/",
      "https://node.example.org:8443",
      "node.example.org:3478",
    ],
    [
      "takes the config's publicHttp without a scheme",
      bound("0.0.0.0:8650", "0.0.0.0:3478"),
      { publicHttp: "node.example.org:8650", publicUdp: null },
      undefined,
      "http://node.example.org:8650",
      "node.example.org:3478",
    ],
    [
      "takes the config's publicUdp",
      bound("127.0.0.1:8650", "127.0.0.1:3478"),
      { publicHttp: null, publicUdp: "udp.example.org:9000" },
      undefined,
      "http://127.0.0.1:8650",
      "udp.example.org:9000",
    ],
    [
      "keeps a UDP bound to its own address when the URL is derived",
      bound("0.0.0.0:8650", "10.1.2.3:3478"),
      none,
      undefined,
      expect.stringMatching(/^http:\/\/[\d.]+:8650$/) as unknown as string,
      "10.1.2.3:3478",
    ],
  ];
  for (const [name, b, config, flag, url, udp] of valid) {
    test(`publicAddresses() ${name}`, () => {
      expect(publicAddresses(b, config, { flag })).toEqual({ url, publicUdp: udp });
    });
  }

  test("publicAddresses() never tells recorders a wildcard address", () => {
    const r = publicAddresses(bound("0.0.0.0:8650", "0.0.0.0:3478"), none);
    expect(r.url).not.toContain("0.0.0.0");
    expect(r.url).toMatch(/^http:\/\/[\d.]+:8650$/);
    expect(r.publicUdp).not.toContain("0.0.0.0");
  });

  for (const bad of ["node.example.org", "ftp://node.example.org", "http://"]) {
    test(`publicAddresses() rejects --public-url '${bad}' as a usage error`, () => {
      expect(() => publicAddresses(bound("127.0.0.1:1", "127.0.0.1:2"), none, { flag: bad })).toThrow(
        UsageError,
      );
    });
  }
});
