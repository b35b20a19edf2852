/** @module Tests for the request-body helpers: size limits, JSON objects, and field checks that name the field. */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors/api-error.ts";
import {
  onlyFields,
  optStringArray,
  parseJsonObject,
  readLimited,
  reqAddress,
  reqInt,
  reqString,
} from "./json-body.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof ApiError ? `${err.status} ${err.code}` : String(err);
  }
  return "ok";
}

describe("json-body", () => {
  const bad: Array<[string, string]> = [
    ["not JSON", "{"],
    ["an array", "[]"],
    ["a string", '"x"'],
    ["null", "null"],
    ["a stray character", "\uFFFD"],
  ];
  for (const [what, text] of bad) {
    test(`parseJsonObject() rejects ${what} with 400 bad_request`, () => {
      expect(codeOf(() => parseJsonObject(enc(text)))).toBe("400 bad_request");
    });
  }

  test("parseJsonObject() rejects bytes that are not UTF-8", () => {
    expect(codeOf(() => parseJsonObject(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe("400 bad_request");
  });

  test("parseJsonObject() accepts an empty body only where allowed", () => {
    expect(parseJsonObject(new Uint8Array(0), true)).toEqual({});
    expect(codeOf(() => parseJsonObject(new Uint8Array(0)))).toBe("400 bad_request");
  });

  test("field checks name the field", () => {
    const o = { a: 1, s: "", p: 70000, l: ["x", 2], ip: "1.2.3.256" };
    for (const f of [
      () => reqString(o, "a"),
      () => reqString(o, "s"),
      () => reqInt(o, "p", { min: 1, max: 65535 }),
      () => optStringArray(o, "l", 10),
      () => reqAddress(o, "ip"),
      () => onlyFields(o, ["a"]),
    ]) {
      expect(codeOf(f)).toBe("400 bad_request");
    }
    try {
      reqInt(o, "p", { min: 1, max: 65535 });
    } catch (err) {
      expect((err as Error).message).toContain("'p'");
    }
  });

  test("reqAddress() accepts IPv4 and IPv6 text", () => {
    expect(reqAddress({ a: "203.0.113.7" }, "a")).toBe("203.0.113.7");
    expect(reqAddress({ a: "2001:db8::1" }, "a")).toBe("2001:db8::1");
    expect(codeOf(() => reqAddress({ a: "example.com" }, "a"))).toBe("400 bad_request");
  });

  test("readLimited() stops at the limit with 413 body_too_large", async () => {
    const big = new Request("http://x/", { method: "POST", body: new Uint8Array(2000) });
    expect(await readLimited(big, 2000).then((b) => b.byteLength)).toBe(2000);
    const over = new Request("http://x/", { method: "POST", body: new Uint8Array(2001) });
    await expect(readLimited(over, 2000)).rejects.toMatchObject({ status: 413, code: "body_too_large" });
    const stream = new ReadableStream({
      pull(c) {
        c.enqueue(new Uint8Array(1024));
      },
    });
    const endless = new Request("http://x/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    await expect(readLimited(endless, 4096)).rejects.toMatchObject({ code: "body_too_large" });
  });

  test("readLimited() with a declared length reads the body whole, and still refuses one past the limit", async () => {
    // [declared content-length, actual bytes, expected length or error code] at a 2000-byte limit.
    const cases: Array<[string, number, number | string]> = [
      ["0", 0, 0],
      ["17", 17, 17],
      ["2000", 2000, 2000],
      ["2001", 2001, "body_too_large"],
      // An in-process Request can carry a header that lies; the bytes decide.
      ["10", 2001, "body_too_large"],
    ];
    for (const [declared, size, want] of cases) {
      const req = new Request("http://x/", {
        method: "POST",
        headers: { "content-length": declared },
        body: new Uint8Array(size).fill(7),
      });
      const got = await readLimited(req, 2000).then(
        (b) => (b.every((x) => x === 7) ? b.byteLength : "corrupt"),
        (e: { code?: string }) => e.code ?? "no code",
      );
      expect([declared, size, got]).toEqual([declared, size, want]);
    }
  });
});
