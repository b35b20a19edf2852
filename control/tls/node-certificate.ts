/** @module The control node's TLS identity: an operator's certificate, or a self-signed one made at first start and kept in the data directory. */
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { certificatePinOfPem } from "../../crypto/certificate-pin.ts";
import { randomToken } from "../../crypto/random-token.ts";
import { createSelfSignedCertificate } from "../../crypto/self-signed-certificate.ts";

export const TLS_CERT_FILE = "tls-cert.pem";
export const TLS_KEY_FILE = "tls-key.pem";
/** Ten years: recorders trust the key by its pin, and a certificate that expires would strand every recorder. */
const SELF_SIGNED_DAYS = 3650;
const GROUP_OTHER_BITS = 0o077;

export interface NodeCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the SPKI (`sha256/BASE64`), which credentials carry. */
  pin: string;
  /** "pin": recorders pin this certificate; "ca": an operator's certificate, checked against the system CAs. */
  trust: "pin" | "ca";
}

function readKeyFile(path: string): string {
  const mode = statSync(path).mode;
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    throw new InputError(
      `Cannot use TLS key ${path}: mode ${(mode & 0o777).toString(8)} is readable beyond its owner; run 'chmod 600 ${path}'`,
      "ERR_TLS_KEY_PERMISSIONS",
    );
  }
  return readFileSync(path, "utf8");
}

function readPair(certPath: string, keyPath: string, trust: "pin" | "ca"): NodeCertificate {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, "utf8");
    key = readKeyFile(keyPath);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`Cannot read TLS certificate or key: ${(err as Error).message}`, "ERR_TLS_FILES");
  }
  let pin: string;
  try {
    pin = certificatePinOfPem(cert);
  } catch {
    throw new InputError(
      `Cannot use TLS certificate ${certPath}: not a PEM X.509 certificate`,
      "ERR_TLS_FILES",
    );
  }
  return { cert, key, pin, trust };
}

/** Writes a new file 0600 with O_EXCL, so the key never sits in a wider-mode file. */
function writeNew(path: string, text: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * The operator's `--tls-cert`/`--tls-key` when given (trust "ca"); else DATA/tls-cert.pem and DATA/tls-key.pem,
 * made on first start (trust "pin"). The key is written before the certificate, so a crash between the two
 * leaves no certificate without its key; the next start then makes a fresh pair.
 */
export async function loadOrCreateNodeCertificate(
  dataDir: string,
  operator: { cert: string | null; key: string | null },
): Promise<NodeCertificate> {
  if (operator.cert !== null || operator.key !== null) {
    if (operator.cert === null || operator.key === null)
      throw new InputError("Cannot use TLS: give both --tls-cert and --tls-key", "ERR_TLS_FILES");
    return readPair(operator.cert, operator.key, "ca");
  }
  const certPath = join(dataDir, TLS_CERT_FILE);
  const keyPath = join(dataDir, TLS_KEY_FILE);
  if (!existsSync(certPath)) {
    const made = await createSelfSignedCertificate({
      commonName: "pvrlink control node",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1", "::1"],
      validDays: SELF_SIGNED_DAYS,
    });
    const tmp = `${keyPath}.new-${randomToken(6)}`;
    writeNew(tmp, made.key);
    renameSync(tmp, keyPath);
    writeNew(certPath, made.cert);
  }
  return readPair(certPath, keyPath, "pin");
}
