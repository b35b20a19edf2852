/** @module The control node's TLS identity: an operator's certificate, or a self-signed one made at first start and kept in the data directory. */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
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
/** Held (O_EXCL) by the one process that makes the pair: enroll beside serve, or cluster roles sharing DATA. */
const CREATE_LOCK_FILE = "tls-create.lock";
/** A lock older than this was left by a process that died while making the pair (that takes well under 1 s). */
const CREATE_LOCK_STALE_MS = 30_000;
const CREATE_LOCK_POLL_MS = 50;

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
  await createPairOnce(dataDir, { certPath, keyPath });
  return readPair(certPath, keyPath, "pin");
}

/**
 * Makes the self-signed pair unless it exists, in one process at a time: two processes starting on one data
 * directory would otherwise each write a key and one of the certificates, leaving a certificate whose key was
 * overwritten. The others wait for the lock holder's pair; a lock left by a dead process is taken over.
 */
async function createPairOnce(dataDir: string, p: { certPath: string; keyPath: string }): Promise<void> {
  const lock = join(dataDir, CREATE_LOCK_FILE);
  while (!existsSync(p.certPath)) {
    let fd: number;
    try {
      fd = openSync(lock, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (lockAgeMs(lock) > CREATE_LOCK_STALE_MS) rmSync(lock, { force: true });
      else await Bun.sleep(CREATE_LOCK_POLL_MS);
      continue;
    }
    try {
      if (!existsSync(p.certPath)) await writeNewPair(p);
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

/** How old the lock file is; 0 when it has just gone (its holder finished). */
function lockAgeMs(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

/** The key is written before the certificate, so a crash between the two leaves no certificate without its key. */
async function writeNewPair(p: { certPath: string; keyPath: string }): Promise<void> {
  const made = await createSelfSignedCertificate({
    commonName: "pvrlink control node",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
    validDays: SELF_SIGNED_DAYS,
  });
  const tmp = `${p.keyPath}.new-${randomToken(6)}`;
  writeNew(tmp, made.key);
  renameSync(tmp, p.keyPath);
  writeNew(p.certPath, made.cert);
}
