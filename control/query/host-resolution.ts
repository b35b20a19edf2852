/** @module Resolving a callee's registered host name (seed A variation 3) to an address the node may hand out and connect to. */
import { lookup, Resolver } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import { isPublicAddress } from "../http/public-address.ts";

/** All addresses a name resolves to; an empty list (or a rejection) when it does not resolve. */
export type HostResolver = (host: string) => Promise<string[]>;

/** How long a resolution may take before the callee counts as not connected. */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 2000;

/**
 * The resolver the node uses: the system's (getaddrinfo: /etc/hosts, then DNS), or with `server` ("IP" or
 * "IP:PORT", the `dnsServer` config key) plain DNS A and AAAA queries to that server alone.
 */
export function hostResolver(server: string | null, timeoutMs = DEFAULT_RESOLVE_TIMEOUT_MS): HostResolver {
  if (server === null) {
    return (host) =>
      withTimeout(
        lookup(host, { all: true, verbatim: true }).then((r) => r.map((a) => a.address)),
        timeoutMs,
      );
  }
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([server]);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([r.resolve4(host), r.resolve6(host)]);
    return [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RangeError(`Cannot resolve: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Every address on this machine's interfaces (the node's own), lower-cased. */
export function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}

export interface ResolveOptions {
  resolve: HostResolver;
  /** The operator's allowPrivateAddresses: then any address is acceptable (LAN and test deployments). */
  allowPrivate: boolean;
  own: () => Set<string>;
}

/**
 * The first address of `host` the node may give out and connect to, or null. Without allowPrivate a name that
 * resolves to loopback, link-local, private or another special-purpose address, or to one of the node's own
 * addresses, yields nothing: a device must not make the node connect to itself or its neighbourhood (SSRF).
 */
export async function resolveCalleeHost(host: string, o: ResolveOptions): Promise<string | null> {
  let addresses: string[];
  try {
    addresses = await o.resolve(host);
  } catch {
    return null; // NXDOMAIN, SERVFAIL, timeout: all mean the callee cannot be reached by that name now
  }
  if (o.allowPrivate) return addresses[0] ?? null;
  const own = o.own();
  return addresses.find((a) => isPublicAddress(a) && !own.has(a.toLowerCase())) ?? null;
}
