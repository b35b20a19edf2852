/** @module createSelfSignedCertificate(): a parseable X.509 whose key, signature, dates and fingerprint hold. */
import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { certificateFingerprint, createSelfSignedCertificate } from "./self-signed-certificate.ts";

describe("createSelfSignedCertificate()", () => {
  const now = Date.UTC(2026, 11, 6, 7, 0, 0);
  const c = createSelfSignedCertificate("pvrlink", 3_600_000, now);
  const x = new X509Certificate(c.der);

  test("createSelfSignedCertificate() verifies under its own key and matches the private key", () => {
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(c.key)).toBe(true);
    expect(x.subject).toBe("CN=pvrlink");
    expect(x.issuer).toBe("CN=pvrlink");
  });

  test("createSelfSignedCertificate() is valid from an hour before now for the asked time", () => {
    expect(new Date(x.validFrom).getTime()).toBe(now - 3_600_000);
    expect(new Date(x.validTo).getTime()).toBe(now + 3_600_000);
  });

  test("createSelfSignedCertificate() gives the fingerprint TLS reports, and PEM of the same DER", () => {
    expect(c.fingerprint).toBe(x.fingerprint256);
    expect(certificateFingerprint(c.der)).toBe(c.fingerprint);
    expect(new X509Certificate(c.pem).fingerprint256).toBe(c.fingerprint);
  });

  test("createSelfSignedCertificate() makes a new key and serial each time", () => {
    const d = createSelfSignedCertificate("pvrlink", 3_600_000, now);
    expect(d.fingerprint).not.toBe(c.fingerprint);
    expect(new X509Certificate(d.der).serialNumber).not.toBe(x.serialNumber);
  });

  const bad: Array<[string, number]> = [
    ["zero", 0],
    ["negative", -1],
    ["NaN", Number.NaN],
  ];
  for (const [what, ms] of bad) {
    test(`createSelfSignedCertificate() rejects a ${what} validity`, () => {
      expect(() => createSelfSignedCertificate("pvrlink", ms)).toThrow(RangeError);
    });
  }
});
