/** @module Parses /proc/net/nf_conntrack lines: the NAT mappings a router currently holds. */

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackEntry {
  proto: "udp" | "tcp";
  /** Seconds until the kernel drops the entry unless more traffic refreshes it. */
  timeoutSec: number;
  /** The tuple as the first packet had it (for an outbound flow: LAN address, before NAT). */
  orig: ConntrackTuple;
  /** The tuple replies must carry (for a masqueraded flow: dst is the router's wan address, dport the mapped port). */
  reply: ConntrackTuple;
  assured: boolean;
}

const PROTO_NUMBERS = { tcp: 6, udp: 17 } as const; // IANA protocol numbers

function tuple(fields: Map<string, string>[], i: number, line: string): ConntrackTuple {
  const f = fields[i];
  const src = f?.get("src");
  const dst = f?.get("dst");
  const sport = Number(f?.get("sport"));
  const dport = Number(f?.get("dport"));
  if (!src || !dst || !Number.isInteger(sport) || !Number.isInteger(dport)) {
    throw new SyntaxError(
      `Cannot parse conntrack line: tuple ${i + 1} incomplete in "${line.slice(0, 120)}"`,
    );
  }
  return { src, dst, sport, dport };
}

/**
 * Parses one line of /proc/net/nf_conntrack (format of net/netfilter/nf_conntrack_standalone.c ct_seq_show):
 * `ipv4 2 udp 17 28 src=.. dst=.. sport=.. dport=.. [UNREPLIED] src=.. dst=.. sport=.. dport=.. [ASSURED] ...`.
 * TCP lines carry a state word before the tuples. Returns null for protocols other than TCP and UDP (ICMP
 * has no ports); throws SyntaxError for a line that is not in this format.
 */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const words = line.trim().split(/\s+/);
  if (words.length < 5 || (words[0] !== "ipv4" && words[0] !== "ipv6")) {
    throw new SyntaxError(
      `Cannot parse conntrack line: "${line.slice(0, 120)}" does not start with a family`,
    );
  }
  const proto = words[2];
  if (proto !== "udp" && proto !== "tcp") return null;
  if (Number(words[3]) !== PROTO_NUMBERS[proto]) {
    throw new SyntaxError(`Cannot parse conntrack line: protocol number ${words[3]} does not match ${proto}`);
  }
  const timeoutSec = Number(words[4]);
  if (!Number.isInteger(timeoutSec) || timeoutSec < 0) {
    throw new SyntaxError(`Cannot parse conntrack line: timeout "${words[4]}" is not a count of seconds`);
  }
  // Key=value words group into tuples: a repeated "src=" starts the reply tuple.
  const tuples: Map<string, string>[] = [];
  let assured = false;
  for (const w of words.slice(5)) {
    if (w === "[ASSURED]") assured = true;
    const eq = w.indexOf("=");
    if (eq <= 0) continue;
    const key = w.slice(0, eq);
    if (key === "src") tuples.push(new Map());
    if (["src", "dst", "sport", "dport"].includes(key)) tuples[tuples.length - 1]?.set(key, w.slice(eq + 1));
  }
  if (tuples.length < 2) {
    throw new SyntaxError(`Cannot parse conntrack line: expected 2 tuples, found ${tuples.length}`);
  }
  return { proto, timeoutSec, orig: tuple(tuples, 0, line), reply: tuple(tuples, 1, line), assured };
}

/** Parses a whole table; lines for other protocols are left out. */
export function parseConntrackTable(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const e = parseConntrackLine(line);
    if (e) out.push(e);
  }
  return out;
}
