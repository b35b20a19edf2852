/** @module Tests for the config value parsers: each accepts its valid forms and reports a bad value through the given fail. */
import { describe, expect, test } from "bun:test";
import { type Fail, numberIn, parseHostPort, parseName, url } from "./config-value-parsers.ts";

/** A fail that throws what it was told, so a test can read the place and the reason. */
const failWith: Fail = (what, why) => {
  throw new RangeError(`${what}: ${why}`);
};

describe("parseHostPort()", () => {
  const ok: Array<[string, string, number]> = [
    ["127.0.0.1:0", "127.0.0.1", 0],
    ["node.example:3478", "node.example", 3478],
    ["[2001:db8::1]:443", "2001:db8::1", 443],
  ];
  for (const [s, host, port] of ok)
    test(`parses ${s}`, () => expect(parseHostPort(s, "x")).toEqual({ host, port }));
  for (const s of ["", ":80", "host:", "2001:db8::1:443", "host:port", "a b:1"]) {
    test(`rejects '${s}'`, () => expect(() => parseHostPort(s, "x")).toThrow(/is not host:port/));
  }
});

describe("numberIn()", () => {
  const percent = numberIn({ min: 1, max: 100, integer: true });
  test.each([
    [1, 1],
    ["100", 100],
    [" 42 ", 42],
  ] as Array<[unknown, number]>)("numberIn() takes %p as %p", (v, n) => {
    expect(percent(v, "x", failWith)).toBe(n);
  });
  test.each([0, 101, 1.5, "", "ten", null, true, Number.NaN])("numberIn() rejects %p", (v) => {
    expect(() => percent(v, "x", failWith)).toThrow(/^x: .* is not an integer in \[1, 100\]$/);
  });
  test("numberIn() without integer accepts fractions and says 'a number'", () => {
    const share = numberIn({ min: 0.01, max: 1 });
    expect(share(0.5, "x", failWith)).toBe(0.5);
    expect(() => share(2, "x", failWith)).toThrow(/is not a number in \[0.01, 1\]/);
  });
});

describe("parseName()", () => {
  test.each([
    ["alice", "alice"],
    [" +44 20 7946 0000 ", "+44 20 7946 0000"],
    ["bob@example.org", "bob@example.org"],
  ])("parseName() takes %p as %p", (v, name) => {
    expect(parseName(v, "name", failWith)).toBe(name);
  });
  test.each(["", "a".repeat(129), "tab\there", 7])("parseName() rejects %p", (v) => {
    expect(() => parseName(v, "name", failWith)).toThrow(
      /^name: .* is not a name of 1-128 printable characters$/,
    );
  });
});

describe("url()", () => {
  test("url() keeps an http(s) URL without its trailing slash", () => {
    expect(url("http://node.example:8650/", "nodeUrl", failWith)).toBe("http://node.example:8650");
  });
  test.each(["node.example", "ftp://node.example", ""])("url() rejects %p", (v) => {
    expect(() => url(v, "nodeUrl", failWith)).toThrow(/^nodeUrl: '.*' is not (a|an http\(s\)) URL$/);
  });
});
