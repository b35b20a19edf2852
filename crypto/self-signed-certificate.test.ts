/** @module createPinnedCertificate(): a parseable X.509 whose key, signature, dates and fingerprint hold. */
import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { certificateFingerprint, createPinnedCertificate } from "./self-signed-certificate.ts";

const DAY_MS = 86_400_000;

describe("createPinnedCertificate()", async () => {
  const c = await createPinnedCertificate("pvrlink", 3_600_000);
  const x = new X509Certificate(c.der);

  test("createPinnedCertificate() verifies under its own key and matches the private key", () => {
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(c.key)).toBe(true);
    expect(x.subject).toBe("CN=pvrlink");
    expect(x.issuer).toBe("CN=pvrlink");
  });

  test("createPinnedCertificate() is valid now, for at least the asked time", () => {
    const now = Date.now();
    expect(new Date(x.validFrom).getTime()).toBeLessThan(now);
    expect(new Date(x.validTo).getTime()).toBeGreaterThanOrEqual(now + 3_600_000);
    expect(new Date(x.validTo).getTime()).toBeLessThanOrEqual(now + 2 * DAY_MS);
  });

  test("createPinnedCertificate() gives the fingerprint TLS reports, and PEM of the same DER", () => {
    expect(c.fingerprint).toBe(x.fingerprint256);
    expect(certificateFingerprint(c.der)).toBe(c.fingerprint);
    expect(new X509Certificate(c.pem).fingerprint256).toBe(c.fingerprint);
  });

  test("createPinnedCertificate() makes a new key and serial each time", async () => {
    const d = await createPinnedCertificate("pvrlink", 3_600_000);
    expect(d.fingerprint).not.toBe(c.fingerprint);
    expect(new X509Certificate(d.der).serialNumber).not.toBe(x.serialNumber);
  });

  const bad: Array<[string, number]> = [
    ["zero", 0],
    ["negative", -1],
    ["NaN", Number.NaN],
  ];
  for (const [what, ms] of bad) {
    test(`createPinnedCertificate() rejects a ${what} validity`, async () => {
      await expect(createPinnedCertificate("pvrlink", ms)).rejects.toThrow(RangeError);
    });
  }
});
