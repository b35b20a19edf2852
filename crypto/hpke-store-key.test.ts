/** @module Tests of sealStoreKey()/openStoreKey(): the callee derives the sender's key; another key, enc, session or transfer key does not; @hpke/core meets RFC 9180 A.1.1 with our identity keys. */
import { describe, expect, test } from "bun:test";
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { DecryptError, importSessionKey, openChunk, sealChunk } from "./aead.ts";
import { openStoreKey, STORE_ENC_BYTES, sealStoreKey } from "./hpke-store-key.ts";
import { fromBase64url, randomToken, toBase64url } from "./random-token.ts";
import { generateIdentity, loadIdentityPrivateKey } from "./x25519-identity.ts";

async function identity() {
  const id = await generateIdentity();
  return { publicKey: id.publicKey, privateKey: await loadIdentityPrivateKey(id.privatePkcs8) };
}

const POSITION = { context: "pvrlink/store/test", stream: 3, index: 0 };
const PLAIN = new TextEncoder().encode("record 0");

/** A chunk sealed under one store key opened under another: the plaintext, or the error's code. */
async function crossOpen(sealedUnder: string, openedUnder: string): Promise<string> {
  const sealed = await sealChunk(await importSessionKey(fromBase64url(sealedUnder)), POSITION, PLAIN);
  try {
    return new TextDecoder().decode(
      await openChunk(await importSessionKey(fromBase64url(openedUnder)), POSITION, sealed),
    );
  } catch (err) {
    return (err as DecryptError).code;
  }
}

/** A callee, the fields a store send feeds in, and the sender's result. */
async function stored() {
  const callee = await identity();
  const base = { transferKey: randomToken(32), sessionId: "ses_1" };
  const sent = await sealStoreKey({ ...base, calleePublicKey: callee.publicKey });
  const asCallee = { ...base, calleePrivateKey: callee.privateKey, calleePublicKey: callee.publicKey };
  return { callee, base, sent, asCallee };
}
type Stored = Awaited<ReturnType<typeof stored>>;

describe("sealStoreKey() and openStoreKey()", () => {
  test("openStoreKey() with the callee's identity key derives the sender's 32-byte key, which is not the transfer key", async () => {
    const { base, sent, asCallee } = await stored();
    expect(sent.enc.byteLength).toBe(STORE_ENC_BYTES);
    expect(fromBase64url(sent.key).byteLength).toBe(32);
    expect(sent.key).not.toBe(base.transferKey);
    const key = await openStoreKey({ ...asCallee, enc: sent.enc });
    expect(key).toBe(sent.key);
    expect(await crossOpen(sent.key, key)).toBe("record 0");
  });

  test("sealStoreKey() makes a fresh enc and key each time (a new ephemeral key per store)", async () => {
    const { callee, base, sent } = await stored();
    const again = await sealStoreKey({ ...base, calleePublicKey: callee.publicKey });
    expect(toBase64url(again.enc)).not.toBe(toBase64url(sent.enc));
    expect(again.key).not.toBe(sent.key);
  });

  test("openStoreKey() with another recorder's identity key derives a key that opens nothing", async () => {
    const { base, sent } = await stored();
    const other = await identity();
    const key = await openStoreKey({
      ...base,
      enc: sent.enc,
      calleePrivateKey: other.privateKey,
      calleePublicKey: other.publicKey,
    });
    expect(key).not.toBe(sent.key);
    expect(await crossOpen(sent.key, key)).toBe("ERR_DECRYPT");
  });

  test("the transfer key alone (the pre-HPKE key, all a later thief of the sender's identity key can make) opens nothing", async () => {
    const { base, sent } = await stored();
    expect(await crossOpen(sent.key, base.transferKey)).toBe("ERR_DECRYPT");
  });

  test.each([
    ["a tampered enc", async (o: Stored) => o.sent.enc.map((b, i) => (i === 7 ? b ^ 1 : b))],
    [
      "another sender's enc (one the node made itself)",
      async (o: Stored) => (await sealStoreKey({ ...o.base, calleePublicKey: o.callee.publicKey })).enc,
    ],
  ])("openStoreKey() with %s derives a key that opens nothing", async (_name, encOf) => {
    const o = await stored();
    const key = await openStoreKey({ ...o.asCallee, enc: await encOf(o) });
    expect(await crossOpen(o.sent.key, key)).toBe("ERR_DECRYPT");
  });

  test.each([
    ["another session id", { sessionId: "ses_2" }],
    ["another transfer key (a session the node did not authorise)", { transferKey: randomToken(32) }],
  ])("openStoreKey() under %s derives a key that opens nothing", async (_name, change) => {
    const { sent, asCallee } = await stored();
    const key = await openStoreKey({ ...asCallee, ...change, enc: sent.enc });
    expect(await crossOpen(sent.key, key)).toBe("ERR_DECRYPT");
  });

  test.each([
    ["31 bytes", new Uint8Array(31)],
    ["33 bytes", new Uint8Array(33)],
    ["the all-zero point (low order: X25519 output all zero, RFC 7748 6.1)", new Uint8Array(32)],
  ])("openStoreKey() refuses an enc of %s with one DecryptError", async (_name, enc) => {
    const { asCallee } = await stored();
    const err = await openStoreKey({ ...asCallee, enc }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect((err as DecryptError).message).toBe("Cannot open sealed chunk: authentication failed");
  });

  test("sealStoreKey() refuses a callee public key that is not 32 bytes of base64url", async () => {
    const err = await sealStoreKey({
      calleePublicKey: "AAAA",
      transferKey: randomToken(32),
      sessionId: "ses_1",
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ERR_IDENTITY_KEY");
  });
});

/** RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, Base mode. */
const A11 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
  enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  exports: [
    ["", "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee"],
    ["00", "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5"],
    ["54657374436f6e74657874", "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931"],
  ],
} as const;
/** RFC 8410 PKCS#8 wrapping of a raw X25519 private key: how a recorder's identity-key.json holds it. */
const X25519_PKCS8_PREFIX = "302e020100300506032b656e04220420";
const hex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const toHex = (b: ArrayBuffer) => Buffer.from(b).toString("hex");

describe("@hpke/core against RFC 9180 A.1.1", () => {
  const suite = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });

  test("SetupBaseS with the vector's ephemeral key gives its enc and exporter values", async () => {
    const pkR = await crypto.subtle.importKey("raw", hex(A11.pkRm), { name: "X25519" }, true, []);
    const s = await suite.createSenderContext({
      recipientPublicKey: pkR,
      info: hex(A11.info),
      ekm: hex(A11.ikmE),
    });
    expect(toHex(s.enc)).toBe(A11.enc);
    for (const [context, value] of A11.exports) expect(toHex(await s.export(hex(context), 32))).toBe(value);
  });

  test("SetupBaseR with the private key loaded as an identity key is (PKCS#8, non-extractable) gives the exporter values", async () => {
    const skR = await loadIdentityPrivateKey(toBase64url(hex(X25519_PKCS8_PREFIX + A11.skRm)));
    expect(skR.extractable).toBe(false);
    const pkR = await crypto.subtle.importKey("raw", hex(A11.pkRm), { name: "X25519" }, true, []);
    const r = await suite.createRecipientContext({
      recipientKey: { privateKey: skR, publicKey: pkR },
      enc: hex(A11.enc),
      info: hex(A11.info),
    });
    for (const [context, value] of A11.exports) expect(toHex(await r.export(hex(context), 32))).toBe(value);
  });
});
