/** @module Whether an IP address is public (globally routable unicast), so a device cannot point the node at loopback, link-local, private or special-purpose addresses. */
import { isIP } from "node:net";

/** IPv4 special-purpose blocks that are not public unicast (IANA IPv4 Special-Purpose Address Registry, RFC 6890). */
const V4_NOT_PUBLIC: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network" (RFC 791)
  ["10.0.0.0", 8], // private (RFC 1918)
  ["100.64.0.0", 10], // shared address space, carrier-grade NAT (RFC 6598)
  ["127.0.0.0", 8], // loopback (RFC 1122)
  ["169.254.0.0", 16], // link-local, cloud metadata services (RFC 3927)
  ["172.16.0.0", 12], // private (RFC 1918)
  ["192.0.0.0", 24], // IETF protocol assignments (RFC 6890)
  ["192.0.2.0", 24], // TEST-NET-1 (RFC 5737)
  ["192.88.99.0", 24], // 6to4 relay anycast, deprecated (RFC 7526)
  ["192.168.0.0", 16], // private (RFC 1918)
  ["198.18.0.0", 15], // benchmarking (RFC 2544)
  ["198.51.100.0", 24], // TEST-NET-2 (RFC 5737)
  ["203.0.113.0", 24], // TEST-NET-3 (RFC 5737)
  ["224.0.0.0", 4], // multicast (RFC 5771)
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast (RFC 1112, RFC 919)
];

function v4ToInt(a: string): number {
  return a.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function isPublicV4(a: string): boolean {
  const n = v4ToInt(a);
  return !V4_NOT_PUBLIC.some(
    ([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(v4ToInt(base) / 2 ** (32 - bits)),
  );
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded dotted IPv4 tail becomes two groups). */
function v6Groups(a: string): number[] {
  let s = a.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const n = v4ToInt(tail[1]!);
    s = `${s.slice(0, -tail[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const r = rest ? rest.split(":") : [];
  const fill = rest === undefined ? [] : Array(8 - h.length - r.length).fill("0");
  return [...h, ...fill, ...r].map((g) => Number.parseInt(g, 16));
}

function isPublicV6(a: string): boolean {
  const g = v6Groups(a);
  const [g0 = 0, g1 = 0] = g;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    // IPv4-mapped (RFC 4291 2.5.5.2): judged as the IPv4 address it carries.
    return isPublicV4(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  }
  if (g.slice(0, 6).every((x) => x === 0)) return false; // ::, ::1 and IPv4-compatible (deprecated)
  if ((g0 & 0xfe00) === 0xfc00) return false; // unique local fc00::/7 (RFC 4193)
  if ((g0 & 0xffc0) === 0xfe80) return false; // link-local fe80::/10 (RFC 4291)
  if ((g0 & 0xff00) === 0xff00) return false; // multicast ff00::/8 (RFC 4291)
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation 2001:db8::/32 (RFC 3849)
  if (g0 === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return false; // discard-only 100::/64 (RFC 6666)
  return true;
}

/** True for a syntactically valid IPv4 or IPv6 address (no zone index) that is public unicast. */
export function isPublicAddress(address: string): boolean {
  if (address.includes("%")) return false;
  const kind = isIP(address);
  if (kind === 4) return isPublicV4(address);
  if (kind === 6) return isPublicV6(address);
  return false;
}

/** Wraps a TCP probe so it never connects to a non-public address unless allowed; such a probe reads as closed. */
export function publicOnly(
  probe: (address: string, port: number) => Promise<boolean>,
  allowPrivate: boolean,
): (address: string, port: number) => Promise<boolean> {
  return (address, port) =>
    allowPrivate || isPublicAddress(address) ? probe(address, port) : Promise.resolve(false);
}
