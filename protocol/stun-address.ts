/** @module XOR-MAPPED-ADDRESS and MAPPED-ADDRESS values (RFC 8489 14.1, 14.2) and the IP text forms they carry. */
import { readU16, writeU16, writeU32 } from "./big-endian.ts";
import { FAMILY_IPV4, FAMILY_IPV6, MAGIC_COOKIE, TRANSACTION_ID_BYTES } from "./stun-constants.ts";
import { stunError } from "./stun-error.ts";

/** A transport address as text ("192.0.2.1", "2001:db8::1") plus port. */
export interface TransportAddress {
  readonly family: "IPv4" | "IPv6";
  readonly address: string;
  readonly port: number;
}

/** Value length for IPv4 and IPv6: reserved, family, port, then 4 or 16 address bytes (RFC 8489 14.1). */
const IPV4_VALUE_BYTES = 8;
const IPV6_VALUE_BYTES = 20;

/** ASCII '0', '9' and '.', for reading dotted quads. */
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const DOT = 0x2e;

/** Parses dotted-quad IPv4 into 4 bytes, or null. */
export function parseIpv4(s: string): Uint8Array | null {
  // Four groups of 1-3 decimal digits, each at most 255, joined by dots: read by hand, as every keepalive and
  // reply parses its source address (a regular expression and its match array cost more than the rest).
  const out = new Uint8Array(4);
  let group = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (++digits > 3) return null;
      value = value * 10 + (c - DIGIT_0);
    } else if (c === DOT && digits > 0 && group < 3) {
      if (value > 255) return null;
      out[group++] = value;
      value = 0;
      digits = 0;
    } else return null;
  }
  if (group !== 3 || digits === 0 || value > 255) return null;
  out[3] = value;
  return out;
}

/** Parses IPv6 text (with "::" and an optional trailing dotted quad; no zone id) into 16 bytes, or null. */
export function parseIpv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes(".")) {
        const v4 = parseIpv4(it);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(Number.parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Formats 16 bytes as RFC 5952 text: lowercase, leading zeros dropped, the longest run of 2+ zero groups as "::". */
export function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/**
 * Normalises a socket's remote address: an IPv4-mapped IPv6 address ("::ffff:192.0.2.1", RFC 4291 2.5.5.2) is
 * the IPv4 peer it stands for, so it is reported with family IPv4.
 */
export function toTransportAddress(address: string, port: number): TransportAddress {
  const v4 = parseIpv4(address);
  if (v4) return { family: "IPv4", address, port };
  const v6 = parseIpv6(address);
  if (!v6) throw new TypeError(`Cannot use address "${address}": not an IPv4 or IPv6 literal`);
  const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
  if (mapped) return { family: "IPv4", address: Array.from(v6.subarray(12)).join("."), port };
  return { family: "IPv6", address: formatIpv6(v6), port };
}

/** Encodes an XOR-MAPPED-ADDRESS value: port XOR the cookie's top 16 bits, address XOR cookie (|| txid for IPv6). */
export function encodeXorMappedAddress(addr: TransportAddress, transactionId: Uint8Array): Uint8Array {
  const raw = addr.family === "IPv4" ? parseIpv4(addr.address) : parseIpv6(addr.address);
  if (!raw) throw new TypeError(`Cannot encode XOR-MAPPED-ADDRESS: "${addr.address}" is not ${addr.family}`);
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 0xffff) {
    throw new RangeError(`Cannot encode XOR-MAPPED-ADDRESS: port ${addr.port} is out of range`);
  }
  const out = new Uint8Array(4 + raw.byteLength);
  out[1] = addr.family === "IPv4" ? FAMILY_IPV4 : FAMILY_IPV6;
  writeU16(out, 2, addr.port ^ (MAGIC_COOKIE >>> 16));
  xorInto(out, 4, raw, xorPad(transactionId));
  return out;
}

/** Decodes an XOR-MAPPED-ADDRESS value; transactionId is the message's own (needed for IPv6). */
export function decodeXorMappedAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress {
  const plain = readAddress(value, "XOR-MAPPED-ADDRESS");
  const raw = new Uint8Array(plain.raw.byteLength);
  xorInto(raw, 0, plain.raw, xorPad(transactionId));
  return finish(plain.family, raw, plain.port ^ (MAGIC_COOKIE >>> 16));
}

/** Decodes a legacy MAPPED-ADDRESS value (no XOR), which old servers send (RFC 8489 14.1). */
export function decodeMappedAddress(value: Uint8Array): TransportAddress {
  const plain = readAddress(value, "MAPPED-ADDRESS");
  return finish(plain.family, plain.raw, plain.port);
}

function readAddress(value: Uint8Array, what: string): { family: number; port: number; raw: Uint8Array } {
  if (value.byteLength < 4) {
    throw stunError("ERR_STUN_ADDRESS", `Cannot parse ${what}: length ${value.byteLength} is below 4`);
  }
  const family = value[1]!;
  const want = family === FAMILY_IPV4 ? IPV4_VALUE_BYTES : family === FAMILY_IPV6 ? IPV6_VALUE_BYTES : -1;
  if (want < 0)
    throw stunError("ERR_STUN_ADDRESS", `Cannot parse ${what}: unknown family 0x${family.toString(16)}`);
  if (value.byteLength !== want) {
    throw stunError("ERR_STUN_ADDRESS", `Cannot parse ${what}: length ${value.byteLength} is not ${want}`);
  }
  return { family, port: readU16(value, 2), raw: value.subarray(4) };
}

function finish(family: number, raw: Uint8Array, port: number): TransportAddress {
  return family === FAMILY_IPV4
    ? { family: "IPv4", address: Array.from(raw).join("."), port }
    : { family: "IPv6", address: formatIpv6(raw), port };
}

function xorPad(transactionId: Uint8Array): Uint8Array {
  if (transactionId.byteLength !== TRANSACTION_ID_BYTES) {
    throw new RangeError(`Cannot XOR address: transaction id length ${transactionId.byteLength} is not 12`);
  }
  const pad = new Uint8Array(16);
  writeU32(pad, 0, MAGIC_COOKIE);
  pad.set(transactionId, 4);
  return pad;
}

/** out[at + i] = a[i] ^ pad[i]: an offset, not a subarray of out (a view of a small fresh array costs a copy). */
function xorInto(out: Uint8Array, at: number, a: Uint8Array, pad: Uint8Array): void {
  for (let i = 0; i < a.byteLength; i++) out[at + i] = a[i]! ^ pad[i]!;
}
