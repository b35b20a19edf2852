/** @module Tests of the X25519 identity helpers: fresh keys agree, the private key imports non-extractable, fingerprints read as six digit groups. */
import { describe, expect, test } from "bun:test";
import { toBase64url } from "./random-token.ts";
import {
  generateIdentity,
  identityFingerprint,
  loadIdentityPrivateKey,
  parseIdentityPublicKey,
  X25519_PUBLIC_KEY_BYTES,
} from "./x25519-identity.ts";

describe("generateIdentity()", () => {
  test("generateIdentity() makes distinct 32-byte keys whose private halves load non-extractable and agree", async () => {
    const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(parseIdentityPublicKey(a.publicKey).byteLength).toBe(X25519_PUBLIC_KEY_BYTES);
    const [pa, pb] = await Promise.all([
      loadIdentityPrivateKey(a.privatePkcs8),
      loadIdentityPrivateKey(b.privatePkcs8),
    ]);
    expect(pa.extractable).toBe(false);
    const pub = (k: string) =>
      crypto.subtle.importKey("raw", new Uint8Array(parseIdentityPublicKey(k)), { name: "X25519" }, true, []);
    const ab = await crypto.subtle.deriveBits({ name: "X25519", public: await pub(b.publicKey) }, pa, 256);
    const ba = await crypto.subtle.deriveBits({ name: "X25519", public: await pub(a.publicKey) }, pb, 256);
    expect(Buffer.from(ab).equals(Buffer.from(ba))).toBe(true);
  });
});

describe("identityFingerprint()", () => {
  test("identityFingerprint() is six groups of five digits, the same for the same key, different for another", async () => {
    const { publicKey } = await generateIdentity();
    const other = await generateIdentity();
    const f = identityFingerprint(publicKey);
    expect(f).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(identityFingerprint(publicKey)).toBe(f);
    expect(identityFingerprint(other.publicKey)).not.toBe(f);
  });

  test.each([
    ["31 bytes", toBase64url(new Uint8Array(31))],
    ["33 bytes", toBase64url(new Uint8Array(33))],
    ["not base64url", "a+b/c=="],
    ["empty", ""],
  ])("parseIdentityPublicKey() rejects %s with ERR_IDENTITY_KEY", (_name, text) => {
    expect(() => parseIdentityPublicKey(text)).toThrow(expect.objectContaining({ code: "ERR_IDENTITY_KEY" }));
  });
});
