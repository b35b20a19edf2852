/** @module Tests for request signing: body hash, canonical request, signature checks. */
import { describe, expect, test } from "bun:test";
import { toBase64url } from "../crypto/random-token.ts";
import { UNSIGNED_PAYLOAD } from "./api-types.ts";
import {
  canonicalRequest,
  computeSignature,
  httpKeyFromSecret,
  type SignedParts,
  sha256Hex,
  signatureMatches,
  signRequest,
} from "./request-signature.ts";

const secret = toBase64url(new Uint8Array(32).fill(7));
const key = httpKeyFromSecret(secret);
const parts: SignedParts = {
  method: "post",
  pathAndQuery: "/v1/query?x=1",
  timestamp: "1700000000000",
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  contentSha256: sha256Hex('{"callee":"b"}'),
};

describe("request signature", () => {
  test("sha256Hex() hashes the empty body to the FIPS 180-4 value", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  test("canonicalRequest() joins the five fields with newlines and upper-cases the method", () => {
    expect(canonicalRequest(parts)).toBe(
      `POST\n/v1/query?x=1\n1700000000000\nAAAAAAAAAAAAAAAAAAAAAA\n${parts.contentSha256}`,
    );
  });

  test("signatureMatches() accepts its own signature", () => {
    expect(signatureMatches(key, parts, computeSignature(key, parts))).toBe(true);
  });

  const tampered: Array<[string, Partial<SignedParts>]> = [
    ["method", { method: "PUT" }],
    ["path", { pathAndQuery: "/v1/query?x=2" }],
    ["timestamp", { timestamp: "1700000000001" }],
    ["nonce", { nonce: "AAAAAAAAAAAAAAAAAAAAAB" }],
    ["body hash", { contentSha256: sha256Hex('{"callee":"c"}') }],
  ];
  for (const [what, change] of tampered) {
    test(`signatureMatches() rejects a changed ${what}`, () => {
      expect(signatureMatches(key, { ...parts, ...change }, computeSignature(key, parts))).toBe(false);
    });
  }

  test("signatureMatches() rejects another device's key and malformed signatures", () => {
    const other = httpKeyFromSecret(toBase64url(new Uint8Array(32).fill(8)));
    const sig = computeSignature(key, parts);
    expect(signatureMatches(other, parts, sig)).toBe(false);
    for (const bad of ["", "!!!", sig.slice(1), `${sig}A`, "a".repeat(500)]) {
      expect(signatureMatches(key, parts, bad)).toBe(false);
    }
  });

  test("signRequest() produces the five headers and marks streamed bodies UNSIGNED-PAYLOAD", () => {
    const h = signRequest({
      deviceId: "dev_x",
      httpKey: key,
      method: "PUT",
      pathAndQuery: "/v1/a",
      body: UNSIGNED_PAYLOAD,
    });
    expect(h["x-pvrlink-content-sha256"]).toBe(UNSIGNED_PAYLOAD);
    expect(h["x-pvrlink-device"]).toBe("dev_x");
    expect(h["x-pvrlink-nonce"]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const p: SignedParts = {
      method: "PUT",
      pathAndQuery: "/v1/a",
      timestamp: h["x-pvrlink-timestamp"]!,
      nonce: h["x-pvrlink-nonce"]!,
      contentSha256: UNSIGNED_PAYLOAD,
    };
    expect(signatureMatches(key, p, h["x-pvrlink-signature"]!)).toBe(true);
  });

  test("signRequest() uses fresh nonces", () => {
    const a = signRequest({ deviceId: "d", httpKey: key, method: "GET", pathAndQuery: "/" });
    const b = signRequest({ deviceId: "d", httpKey: key, method: "GET", pathAndQuery: "/" });
    expect(a["x-pvrlink-nonce"]).not.toBe(b["x-pvrlink-nonce"]);
  });
});
