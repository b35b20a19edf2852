/** @module Tests of the certificate pin: it is the SPKI's SHA-256 (as openssl computes it), and only well-formed pins are read. */
import { describe, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { certificatePinOfPem, normalizePin, PIN_PREFIX } from "./certificate-pin.ts";
import { createSelfSignedCertificate } from "./self-signed-certificate.ts";

describe("certificatePinOfPem()", () => {
  test("certificatePinOfPem() hashes the SubjectPublicKeyInfo, not the whole certificate", async () => {
    const made = await createSelfSignedCertificate({ commonName: "t", validDays: 1 });
    const spki = new X509Certificate(made.cert).publicKey.export({ type: "spki", format: "der" });
    expect(certificatePinOfPem(made.cert)).toBe(
      PIN_PREFIX + createHash("sha256").update(spki).digest("base64"),
    );
    const again = await createSelfSignedCertificate({ commonName: "t", validDays: 1 });
    expect(certificatePinOfPem(again.cert)).not.toBe(certificatePinOfPem(made.cert));
  });
});

describe("normalizePin()", () => {
  const digest = createHash("sha256").update("x").digest();
  const canonical = PIN_PREFIX + digest.toString("base64");
  test.each([
    ["sha256/BASE64", canonical],
    ["bare BASE64", digest.toString("base64")],
    ["hex", digest.toString("hex")],
    ["upper-case hex with spaces around", `  ${digest.toString("hex").toUpperCase()} `],
  ])("normalizePin() reads %s", (_name, text) => {
    expect(normalizePin(text)).toBe(canonical);
  });
  test.each([
    ["empty", ""],
    ["short hex", digest.toString("hex").slice(2)],
    ["base64url alphabet", digest.toString("base64url")],
    ["sha1 length", createHash("sha1").update("x").digest("base64")],
    ["another hash name", `sha512/${digest.toString("base64")}`],
  ])("normalizePin() rejects %s with ERR_PIN_FORMAT", (_name, text) => {
    expect(() => normalizePin(text)).toThrow(expect.objectContaining({ code: "ERR_PIN_FORMAT" }));
  });
});
