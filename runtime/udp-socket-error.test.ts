/** @module Tests of udpSocketError(): every way Bun calls a UDP socket's error handler gives an Error. */
import { describe, expect, test } from "bun:test";
import { udpSocketError } from "./udp-socket-error.ts";

describe("udpSocketError()", () => {
  const refused = Object.assign(new Error("connection refused, recv"), { code: "ECONNREFUSED" });
  const cases: { name: string; args: unknown[]; message: string }[] = [
    { name: "the error alone (Bun 1.4.5)", args: [refused], message: "connection refused, recv" },
    {
      name: "socket then error (older Buns)",
      args: [{ port: 1 }, refused],
      message: "connection refused, recv",
    },
    { name: "no arguments", args: [], message: "UDP socket error: no error object" },
    {
      name: "a socket and no error",
      args: [{ port: 1 }, undefined],
      message: "UDP socket error: no error object",
    },
    { name: "a string", args: ["EHOSTUNREACH"], message: "UDP socket error: EHOSTUNREACH" },
  ];
  for (const c of cases)
    test(`udpSocketError() of ${c.name}`, () => {
      const err = udpSocketError(c.args);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe(c.message);
    });
  test("udpSocketError() hands the same Error on, code and all", () => {
    expect(udpSocketError([refused])).toBe(refused);
  });
});
