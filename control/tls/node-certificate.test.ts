/** @module loadOrCreateNodeCertificate(): one self-signed pair per data directory, however many processes start on it at once. */
import { afterEach, describe, expect, test } from "bun:test";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateNodeCertificate } from "./node-certificate.ts";

const NO_OPERATOR = { cert: null, key: null };
const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-tls-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Whether the certificate's public key is the private key's (the pair a TLS server needs). */
function matches(c: { cert: string; key: string }): boolean {
  return new X509Certificate(c.cert).checkPrivateKey(createPrivateKey(c.key));
}

describe("loadOrCreateNodeCertificate()", () => {
  test("loadOrCreateNodeCertificate() makes a pair once and reads the same pair after", async () => {
    const dir = dataDir();
    const first = await loadOrCreateNodeCertificate(dir, NO_OPERATOR);
    const again = await loadOrCreateNodeCertificate(dir, NO_OPERATOR);
    expect(again.pin).toBe(first.pin);
    expect(matches(first)).toBe(true);
  });

  test("loadOrCreateNodeCertificate() started 8 times at once on one directory gives every caller one matching pair", async () => {
    const dir = dataDir();
    const all = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreateNodeCertificate(dir, NO_OPERATOR)),
    );
    expect(new Set(all.map((c) => c.pin)).size).toBe(1);
    expect(all.every(matches)).toBe(true);
    const reread = await loadOrCreateNodeCertificate(dir, NO_OPERATOR);
    expect(reread.pin).toBe(all[0]?.pin ?? "");
  });

  test("loadOrCreateNodeCertificate() takes over a lock left by a process that died making the pair", async () => {
    const dir = dataDir();
    const lock = join(dir, "tls-create.lock");
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const made = await loadOrCreateNodeCertificate(dir, NO_OPERATOR);
    expect(matches(made)).toBe(true);
  });
});
