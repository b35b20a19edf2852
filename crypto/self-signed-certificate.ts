/** @module A fresh ECDSA P-256 key and self-signed X.509 certificate, for a QUIC endpoint whose peer pins it. */
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { randomBytes } from "./random-token.ts";

/** OID 1.2.840.10045.4.3.2, ecdsa-with-SHA256 (RFC 5758 3.2), DER-encoded with its tag. */
const OID_ECDSA_SHA256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/** OID 2.5.4.3, id-at-commonName (RFC 5280 A.1). */
const OID_COMMON_NAME = [0x06, 0x03, 0x55, 0x04, 0x03];
/** DER tags (X.690 8): SEQUENCE, SET, INTEGER, BIT STRING, UTF8String, UTCTime, [0] constructed. */
const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const CONTEXT_0 = 0xa0;
/** X.509 v3 is encoded as version 2 (RFC 5280 4.1.2.1). */
const VERSION_3 = 2;
/** Validity margin before now: peers' clocks differ, and the pin, not the dates, is what is checked. */
const BACKDATE_MS = 60 * 60 * 1000;

export interface SelfSignedCertificate {
  /** The private key, generated here and never exported. */
  readonly key: KeyObject;
  /** The certificate, DER. */
  readonly der: Uint8Array;
  /** The certificate, PEM (RFC 7468), the form TLS stacks load. */
  readonly pem: string;
  /** SHA-256 of the DER, colon-separated upper-case hex (the form a TLS peer certificate reports). */
  readonly fingerprint: string;
}

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...content: Array<Uint8Array | number[]>): Uint8Array {
  const body = Buffer.concat(content.map((c) => Uint8Array.from(c)));
  return Uint8Array.from([tag, ...length(body.byteLength), ...body]);
}

function utcTime(ms: number): Uint8Array {
  // UTCTime YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1); valid for years 1950-2049.
  const iso = new Date(ms).toISOString();
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(UTC_TIME, [...Buffer.from(text, "ascii")]);
}

/** The colon-hex SHA-256 fingerprint of a DER certificate. */
export function certificateFingerprint(der: Uint8Array): string {
  const hex = createHash("sha256").update(der).digest("hex").toUpperCase();
  return hex.match(/../g)!.join(":");
}

/**
 * Makes a new key pair (CSPRNG, inside node:crypto) and a certificate for it, valid from an hour ago for
 * `validForMs`, subject and issuer CN = `commonName`. Nobody trusts it by its issuer: a peer accepts it only by
 * its fingerprint, learned over an authenticated channel.
 */
export function createSelfSignedCertificate(
  commonName: string,
  validForMs: number,
  now = Date.now(),
): SelfSignedCertificate {
  if (!(validForMs > 0)) throw new RangeError(`Cannot create certificate: validity ${validForMs} ms`);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER (RFC 5280 4.1.2.2)
  serial[0]! |= 0x01; // and minimal: no leading zero byte
  const algorithm = tlv(SEQUENCE, OID_ECDSA_SHA256);
  const name = tlv(
    SEQUENCE,
    tlv(SET, tlv(SEQUENCE, OID_COMMON_NAME, tlv(UTF8_STRING, [...Buffer.from(commonName, "utf8")]))),
  );
  const tbs = tlv(
    SEQUENCE,
    tlv(CONTEXT_0, tlv(INTEGER, [VERSION_3])),
    tlv(INTEGER, serial),
    algorithm,
    name,
    tlv(SEQUENCE, utcTime(now - BACKDATE_MS), utcTime(now + validForMs)),
    name,
    spki,
  );
  const signature = new Uint8Array(sign("sha256", tbs, privateKey));
  const der = tlv(SEQUENCE, tbs, algorithm, tlv(BIT_STRING, [0], signature));
  const base64 = Buffer.from(der)
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n");
  const pem = `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey, der, pem, fingerprint: certificateFingerprint(der) };
}
