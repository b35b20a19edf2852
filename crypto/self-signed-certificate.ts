/** @module A fresh ECDSA P-256 key pair and self-signed X.509 certificate for the control node's TLS, made with @peculiar/x509 over WebCrypto. */

import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { randomBytes } from "./random-token.ts";
import { x509 } from "./x509-library.ts";

/** ECDSA over P-256 with SHA-256 (RFC 5480): every TLS 1.3 stack accepts it, and it signs fast. */
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
/** RFC 5280 4.1.2.2: a positive serial of at most 20 octets; 16 CSPRNG bytes with the top bit cleared. */
const SERIAL_BYTES = 16;
const DAY_MS = 86_400_000;

export interface SelfSignedCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key (the TLS server must read it from disk, so it is exported once, here). */
  key: string;
}

/**
 * Makes the node's TLS identity. Recorders trust it by its SPKI pin, not by its names, so the names are only
 * informative (`dnsNames`/`ipAddresses` go into subjectAltName for tools like curl --resolve).
 */
export async function createSelfSignedCertificate(o: {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  validDays: number;
}): Promise<SelfSignedCertificate> {
  // The private key must be extractable exactly once, to become the PEM file Bun.serve loads.
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const serial = randomBytes(SERIAL_BYTES);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const now = Date.now();
  const names = [
    ...(o.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString("hex"),
    name: `CN=${o.commonName}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + o.validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const lines = pkcs8.match(/.{1,64}/g) ?? [];
  return {
    cert: cert.toString("pem"),
    key: `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`,
  };
}

/** A certificate for an endpoint that a peer pins by fingerprint (the punched path's QUIC listener). */
export interface PinnedCertificate {
  /** The private key, for the TLS stack (imported once from the PKCS#8 made above). */
  readonly key: KeyObject;
  /** The certificate, DER. */
  readonly der: Uint8Array;
  /** The certificate, PEM (RFC 7468), the form TLS stacks load. */
  readonly pem: string;
  /** SHA-256 of the DER, colon-separated upper-case hex (the form a TLS peer certificate reports). */
  readonly fingerprint: string;
}

/** The colon-hex SHA-256 fingerprint of a DER certificate. */
export function certificateFingerprint(der: Uint8Array): string {
  const hex = createHash("sha256").update(der).digest("hex").toUpperCase();
  return hex.match(/../g)!.join(":");
}

/**
 * A fresh key and certificate valid for `validForMs` (at least a day, the X.509 library's unit), trusted by no
 * issuer: a peer accepts it only by its fingerprint, learned over an authenticated channel.
 */
export async function createPinnedCertificate(
  commonName: string,
  validForMs: number,
): Promise<PinnedCertificate> {
  if (!(validForMs > 0)) throw new RangeError(`Cannot create certificate: validity ${validForMs} ms`);
  const made = await createSelfSignedCertificate({
    commonName,
    validDays: Math.max(1, Math.ceil(validForMs / DAY_MS)),
  });
  const der = new Uint8Array(new x509.X509Certificate(made.cert).rawData);
  return { key: createPrivateKey(made.key), der, pem: made.cert, fingerprint: certificateFingerprint(der) };
}
