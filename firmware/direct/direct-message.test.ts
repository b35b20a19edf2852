/** @module Tests for the direct channel's message encoding: round trips, limits, views, and mutated input. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { DirectChannelError } from "./direct-error.ts";
import {
  decodeMessage,
  encodeMessage,
  lendTypeRoom,
  TYPE_OFFER,
  type WireMessage,
} from "./direct-message.ts";

const sha = "a".repeat(64);
const roundTrip: WireMessage[] = [
  { type: "request", id: "dev_abcdefgh", password: "pw-_1", nonce: "n0nce" },
  { type: "accepted", nonce: "n0nce", calleeNonce: "other", expiresAt: 1_800_000_000_000 },
  { type: "request", id: "dev_abcdefgh", password: "pw-_1", nonce: "n0nce", eph: "A".repeat(43) },
  { type: "accepted", nonce: "n0nce", calleeNonce: "other", expiresAt: 1, eph: "b".repeat(43) },
  {
    type: "accepted",
    nonce: "n0nce",
    calleeNonce: "other",
    expiresAt: 1,
    eph: "b".repeat(43),
    password: "callee-pw_1",
  },
  { type: "denied", code: "password_used" },
  { type: "offer", kind: "direct-part", size: 123, name: "番組 2026-11-22.ts", meta: { container: "ts" } },
  { type: "offer", kind: "recording", size: 0, name: "" },
  { type: "data", bytes: new Uint8Array([0, 1, 2, 255]) },
  { type: "data", bytes: new Uint8Array(0) },
  { type: "end", size: 4, sha256: sha },
  { type: "end" },
  { type: "receipt", ok: false, bytes: 3, code: "sha256_mismatch" },
  { type: "receipt", ok: true, bytes: 3, sha256: sha, held: true },
  { type: "receipt", ok: true, bytes: 3, held: false },
  { type: "close", reason: "expired" },
  { type: "accepted", nonce: "n0nce", calleeNonce: "other", expiresAt: 1, resume: true },
  { type: "accepted", nonce: "n0nce", calleeNonce: "other", expiresAt: 1, patternVersions: [1, 2, 3] },
  { type: "resume", sha256: sha, kind: "split", size: 1000, protection: "pattern", directSize: 900 },
  { type: "resume", sha256: sha, kind: "data", size: 0, protection: "sealed" },
  { type: "held", held: 0 },
  { type: "held", held: 123_456_789 },
];

describe("encodeMessage() / decodeMessage()", () => {
  for (const m of roundTrip) {
    test(`round-trips ${m.type} ${JSON.stringify(m).slice(0, 60)}`, () => {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    });
  }
  test("encodeMessage() rejects DATA above 1 MiB", () => {
    expect(() => encodeMessage({ type: "data", bytes: new Uint8Array(1024 * 1024 + 1) })).toThrow(RangeError);
  });
  const enc = (type: number, body: string) => new Uint8Array([type, ...new TextEncoder().encode(body)]);
  const bad: Array<[string, Uint8Array]> = [
    ["empty plaintext", new Uint8Array(0)],
    ["unknown type 0x7f", enc(0x7f, "{}")],
    ["invalid JSON", enc(TYPE_OFFER, "{")],
    ["a JSON array", enc(TYPE_OFFER, "[]")],
    ["invalid UTF-8", new Uint8Array([TYPE_OFFER, 0xff, 0xfe])],
    ["an offer with a negative size", enc(TYPE_OFFER, '{"kind":"x","size":-1,"name":""}')],
    ["an offer with a fractional size", enc(TYPE_OFFER, '{"kind":"x","size":1.5,"name":""}')],
    ["a request without password", enc(0x01, '{"id":"dev_x","nonce":"n"}')],
    [
      "an accepted with a password of spaces",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"password":"  "}'),
    ],
    [
      "an accepted with a numeric password",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"password":7}'),
    ],
    ["a request with a password of spaces", enc(0x01, '{"id":"dev_x","password":"a b","nonce":"n"}')],
    ["an end with an uppercase sha256", enc(0x12, `{"sha256":"${"A".repeat(64)}"}`)],
    ["a denied code with a newline", enc(0x03, '{"code":"a\\nb"}')],
    ["a receipt whose held is not a boolean", enc(0x13, '{"ok":true,"bytes":3,"held":"yes"}')],
    ["a receipt whose held is null", enc(0x13, '{"ok":true,"bytes":3,"held":null}')],
    ["a receipt whose held is the number 1", enc(0x13, '{"ok":true,"bytes":3,"held":1}')],
    ["a receipt whose held is the string true", enc(0x13, '{"ok":true,"bytes":3,"held":"true"}')],
    [
      "a request with a short ephemeral key",
      enc(0x01, `{"id":"d","password":"p","nonce":"n","eph":"${"A".repeat(42)}"}`),
    ],
    [
      "an accepted with a numeric ephemeral key",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"eph":7}'),
    ],
    ["a held with a negative count", enc(0x17, '{"held":-1}')],
    [
      "an accepted whose patternVersions is not a list",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"patternVersions":3}'),
    ],
    [
      "an accepted whose patternVersions holds a zero",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"patternVersions":[1,0]}'),
    ],
    [
      "an accepted whose patternVersions holds a fraction",
      enc(0x02, '{"nonce":"n","calleeNonce":"c","expiresAt":1,"patternVersions":[1.5]}'),
    ],
    [
      "an accepted with too many patternVersions",
      enc(
        0x02,
        `{"nonce":"n","calleeNonce":"c","expiresAt":1,"patternVersions":[${Array(17).fill(1).join(",")}]}`,
      ),
    ],
    ["a held without its count", enc(0x17, "{}")],
    ["a held with a string count", enc(0x17, '{"held":"5"}')],
    ["a resume without sha256", enc(0x16, '{"kind":"data","size":1,"protection":"sealed"}')],
    [
      "a resume with a fractional size",
      enc(0x16, `{"sha256":"${sha}","kind":"data","size":1.5,"protection":"sealed"}`),
    ],
    [
      "a resume with a negative directSize",
      enc(0x16, `{"sha256":"${sha}","kind":"split","size":1,"protection":"seed","directSize":-2}`),
    ],
  ];
  for (const [what, bytes] of bad) {
    test(`decodeMessage() rejects ${what}`, () => {
      expect(() => decodeMessage(bytes)).toThrow(expect.objectContaining({ code: "ERR_DIRECT_PROTOCOL" }));
    });
  }
  // Issue 19 item 8: `held` is optional, so an old receiver's RECEIPT (no field) still reads as "filed".
  const receipts: Array<[string, string, boolean | undefined]> = [
    ["an old receiver's receipt without held", '{"ok":true,"bytes":3}', undefined],
    ["a receipt with held true", '{"ok":true,"bytes":3,"held":true}', true],
    ["a receipt with held false", '{"ok":true,"bytes":3,"held":false}', false],
  ];
  for (const [what, body, held] of receipts) {
    test(`decodeMessage() reads ${what}`, () => {
      const m = decodeMessage(enc(0x13, body));
      expect(m.type === "receipt" ? m.held : "not a receipt").toBe(held);
    });
  }
  // An older callee's ACCEPTED has no resume field: the caller never asks it (a send from the start).
  test("decodeMessage() reads an ACCEPTED without resume, or with a non-true one, as not resuming", () => {
    for (const body of [
      '{"nonce":"n","calleeNonce":"c","expiresAt":1}',
      '{"nonce":"n","calleeNonce":"c","expiresAt":1,"resume":1}',
    ]) {
      const m = decodeMessage(enc(0x02, body));
      expect(m.type === "accepted" ? m.resume : "not accepted").toBeUndefined();
    }
  });
  test("decodeMessage() names the field of a malformed held", () => {
    expect(() => decodeMessage(enc(0x13, '{"ok":true,"bytes":3,"held":[]}'))).toThrow(
      /held is not a boolean/,
    );
  });
  test("decodeMessage() returns DATA as a view, not a copy", () => {
    const p = encodeMessage({ type: "data", bytes: new Uint8Array(8) });
    const m = decodeMessage(p);
    expect(m.type === "data" && m.bytes.buffer === p.buffer).toBe(true);
  });
  const lent: Array<[string, boolean | undefined, boolean]> = [
    ["sealed DATA", undefined, false],
    ["clear DATA", true, true],
  ];
  for (const [what, clear, flag] of lent) {
    test(`encodeMessage() writes a lent ${what} payload's type byte in place, no copy`, () => {
      const buf = new Uint8Array([9, 1, 2, 3, 4]);
      const bytes = lendTypeRoom(buf.subarray(1));
      const p = encodeMessage({ type: "data", bytes, ...(clear ? { clear } : {}) });
      expect(p.buffer).toBe(buf.buffer);
      expect(p.byteOffset).toBe(0);
      expect(decodeMessage(p)).toEqual({
        type: "data",
        bytes: new Uint8Array([1, 2, 3, 4]),
        ...(flag ? { clear: true } : {}),
      });
    });
  }
  test("encodeMessage() copies a lent payload when asked for room around it (a clear frame's prefix and tag)", () => {
    const buf = new Uint8Array([9, 1, 2]);
    const p = encodeMessage({ type: "data", bytes: lendTypeRoom(buf.subarray(1)) }, { before: 8, after: 16 });
    expect(p.buffer).not.toBe(buf.buffer);
    expect(buf[0]).toBe(9);
  });
  test("lendTypeRoom() rejects a payload with no byte before it", () => {
    expect(() => lendTypeRoom(new Uint8Array(4))).toThrow(RangeError);
  });
  test("decodeMessage() throws only DirectChannelError on 3000 mutated messages", () => {
    const r = new SeededRandom(99);
    for (let i = 0; i < 3000; i++) {
      const src = encodeMessage(roundTrip[i % roundTrip.length]!);
      const b = r.sprinkle(src, 1 / 10).subarray(0, 1 + r.below(src.length + 1));
      try {
        decodeMessage(b);
      } catch (err) {
        expect(err).toBeInstanceOf(DirectChannelError);
      }
    }
  });
});
