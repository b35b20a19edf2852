/** @module The recorder's fetch to its control node: TLS pinned to the node's certificate (SPKI SHA-256), or checked against the system CAs, never silently plain. */
import { connect, type PeerCertificate } from "node:tls";
import { certificatePin } from "../crypto/certificate-pin.ts";

/**
 * How a recorder checks the node, as its credential says: `pin` trusts exactly the certificate whose SPKI hashes
 * to the pin (a self-signed node); `ca` validates name and chain against the system CAs (an operator's
 * certificate); `insecure-http` is the operator's explicit choice of plain HTTP (a LAN or a test, not a proxy:
 * a TLS-terminating proxy is `ca` or `pin` from the recorder's side).
 */
export type NodeTrust = { kind: "pin"; pin: string } | { kind: "ca" } | { kind: "insecure-http" };

export type NodeTrustCode = "node_pin_mismatch" | "node_tls_required";

/** The node is not the one the credential pinned, or the URL would drop TLS. */
export class NodeTrustError extends Error {
  constructor(
    readonly code: NodeTrustCode,
    message: string,
  ) {
    super(message);
    this.name = "NodeTrustError";
  }
}

/** A handshake that never completes must not hang enrollment or the daemon. */
const PROBE_TIMEOUT_MS = 10_000;

/** One TLS handshake, no request: the node's leaf certificate, to check against the pin before any byte is sent. */
function probeCertificate(host: string, port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const bare = host.replace(/^\[|\]$/g, "");
    const isIp = /^[\d.]+$/.test(bare) || bare.includes(":");
    // rejectUnauthorized is off for this handshake only: it carries no request, and the pin decides below.
    const socket = connect({
      host: bare,
      port,
      rejectUnauthorized: false,
      ...(isIp ? {} : { servername: bare }),
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`TLS handshake with ${host} timed out`)),
      PROBE_TIMEOUT_MS,
    );
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(false);
      socket.end();
      resolve(cert);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function toPem(der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function mismatch(origin: string): NodeTrustError {
  return new NodeTrustError(
    "node_pin_mismatch",
    `Cannot trust control node ${origin}: its certificate does not match the pin this recorder enrolled with`,
  );
}

function urlOf(input: string | URL | Request): URL {
  return new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
}

/** How requests to one origin verify the node: its certificate as the only anchor, and a name it carries. */
interface Anchor {
  ca: string;
  servername?: string;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** The first DNS name in the certificate's subjectAltName ("DNS:localhost, IP Address:127.0.0.1"). */
function dnsNameOf(cert: PeerCertificate): string | undefined {
  return /(?:^|,\s*)DNS:([^,\s]+)/.exec(cert.subjectaltname ?? "")?.[1];
}

/**
 * A fetch pinned to one SPKI. The first request to an origin makes one TLS handshake, without a request, to
 * read the node's certificate and compare its pin. Requests then go with that certificate as their only trust
 * anchor (`ca`), so every handshake must present exactly it, signed by its own key. Because the pin, not the
 * name, is what is trusted (recorders reach a node by IP as often as by name), the name checked is one the
 * pinned certificate carries (`servername`); no public CA issues a certificate for it ("localhost").
 *
 * Why not `tls.checkServerIdentity` alone: Bun 1.4.5 calls it only after the chain check passes, not at all
 * with rejectUnauthorized:false, and a request that sets it opens a new connection each time (0.55 against
 * 0.13 ms a request on loopback, measured), which the control bench showed as a 3x slower QUERY. It stays the
 * check for a pinned certificate without a DNS name.
 */
function pinnedFetch(pin: string): typeof fetch {
  const anchors = new Map<string, Anchor>();
  const checkServerIdentity = (host: string, cert: PeerCertificate): Error | undefined =>
    cert.raw !== undefined && certificatePin(new Uint8Array(cert.raw)) === pin ? undefined : mismatch(host);

  const anchorFor = async (url: URL): Promise<Anchor> => {
    const known = anchors.get(url.host);
    if (known !== undefined) return known;
    const cert = await probeCertificate(url.hostname, Number(url.port || 443));
    if (cert.raw === undefined || certificatePin(new Uint8Array(cert.raw)) !== pin) throw mismatch(url.host);
    const ca = toPem(new Uint8Array(cert.raw));
    const servername = dnsNameOf(cert);
    // One object per origin: the same options on every request let Bun keep the connection alive.
    const anchor: Anchor = servername === undefined ? { ca, checkServerIdentity } : { ca, servername };
    anchors.set(url.host, anchor);
    return anchor;
  };

  const pinned = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    if (url.protocol !== "https:") {
      throw new NodeTrustError(
        "node_tls_required",
        `Cannot reach control node ${url.host} over ${url.protocol.replace(":", "")}: this recorder pinned its TLS certificate; use https://`,
      );
    }
    const tls = await anchorFor(url);
    try {
      return await fetch(input, { ...init, tls } as RequestInit);
    } catch (err) {
      if (err instanceof NodeTrustError) throw err;
      // The node changed certificate since the first handshake: look again, so a different key reads as what it
      // is (node_pin_mismatch) and a renewed certificate over the same key is trusted from the next call.
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && /CERT|SELF_SIGNED|LEAF|ALTNAME/.test(code)) {
        anchors.delete(url.host);
        await anchorFor(url);
      }
      throw err;
    }
  };
  return Object.assign(pinned, { preconnect: fetch.preconnect }) as typeof fetch;
}

/** Plain HTTP only when the credential says so; https otherwise, never downgraded by a `--node http://` flag. */
function requireScheme(trust: NodeTrust): typeof fetch {
  const checked = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    if (url.protocol !== "https:" && trust.kind !== "insecure-http") {
      return Promise.reject(
        new NodeTrustError(
          "node_tls_required",
          `Cannot reach control node ${url.host} without TLS: use https://`,
        ),
      );
    }
    return fetch(input, init);
  };
  return Object.assign(checked, { preconnect: fetch.preconnect }) as typeof fetch;
}

/** The fetch a recorder uses for every request to its node. */
export function nodeFetch(trust: NodeTrust): typeof fetch {
  return trust.kind === "pin" ? pinnedFetch(trust.pin) : requireScheme(trust);
}
