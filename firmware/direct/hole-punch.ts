/** @module The UDP hole punch: authenticated probes both ways until each side knows its packets reach the other. */
import type { Socket } from "node:dgram";
import { randomBytes } from "../../crypto/random-token.ts";
import {
  decodePunchProbe,
  encodePunchProbe,
  PUNCH_FINGERPRINT_BYTES,
  PUNCH_NONCE_BYTES,
  type PunchProbe,
  type PunchRole,
} from "../../protocol/punch-probe.ts";
import { DirectChannelError } from "./direct-error.ts";

/** Where to send probes, in order of preference; a LAN candidate is only ever the peer's, from the node. */
export interface PunchCandidate {
  address: string;
  port: number;
  via: "lan" | "mapping";
}

export interface PunchOptions {
  /** The bound per-session socket whose mapping the node reported; the punch owns it until it returns. */
  socket: Socket;
  role: PunchRole;
  sessionId: string;
  /** punchKey(session key). */
  key: Uint8Array;
  candidates: readonly PunchCandidate[];
  /** The callee's QUIC certificate fingerprint (colon hex), sent in its probes; the caller sends none. */
  fingerprint?: string;
  /** Give up after this long: the relay takes over (contract: about 3 s). */
  deadlineMs?: number;
  /** Probe spacing. */
  intervalMs?: number;
  /**
   * How long low-TTL probes go out before normal ones. A low-TTL probe leaves our router (opening our mapping)
   * but dies before the peer's router, so a router that answers unsolicited packets itself (and keeps a
   * conntrack entry for them) never sees one that would take the port our peer must reach.
   */
  lowTtlPhaseMs?: number;
  lowTtl?: number;
  log?: (message: string) => void;
}

export interface PunchResult {
  /** The peer's address that answered (its mapping, or its LAN address). */
  remote: { address: string; port: number; via: "lan" | "mapping" };
  /** From our first probe to the confirming ACK. */
  elapsedMs: number;
  /** The callee's certificate fingerprint from its authenticated probes (caller side), colon hex. */
  peerFingerprint?: string;
  probesSent: number;
}

export const DEFAULT_PUNCH_DEADLINE_MS = 3000;
const DEFAULT_INTERVAL_MS = 50;
/** TTL 2: one hop to our router, one more into the wan; never as far as the peer's router (issue 15 feasibility). */
const DEFAULT_LOW_TTL = 2;
const NORMAL_TTL = 64;
/** The callee opens its mapping first; the caller stays low until the callee is heard or this passes. */
const DEFAULT_LOW_TTL_PHASE_MS = { callee: 150, caller: 400 } as const;
/** ACKs are sent this many times: the sender closes its socket right after, so a lost ACK cannot be re-asked. */
const ACK_COPIES = 3;

function fingerprintBytes(hex: string | undefined): Uint8Array {
  if (hex === undefined) return new Uint8Array(PUNCH_FINGERPRINT_BYTES);
  const raw = Buffer.from(hex.replaceAll(":", ""), "hex");
  if (raw.byteLength !== PUNCH_FINGERPRINT_BYTES) {
    throw new RangeError(`Cannot punch: fingerprint is ${raw.byteLength} bytes, not 32`);
  }
  return new Uint8Array(raw);
}

const colonHex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase().match(/../g)!.join(":");

/**
 * Punches toward the candidates until the path is confirmed both ways: we received the peer's PROBE (its packets
 * reach us; answered with ACKs) and an ACK of one of ours (ours reach it). Throws ERR_DIRECT_PUNCH at the
 * deadline. Datagrams that do not authenticate are ignored, so a stranger can neither confirm nor break a punch.
 */
export async function holePunch(o: PunchOptions): Promise<PunchResult> {
  const deadlineMs = o.deadlineMs ?? DEFAULT_PUNCH_DEADLINE_MS;
  const intervalMs = o.intervalMs ?? DEFAULT_INTERVAL_MS;
  const lowPhase = o.lowTtlPhaseMs ?? DEFAULT_LOW_TTL_PHASE_MS[o.role];
  const lowTtl = o.lowTtl ?? DEFAULT_LOW_TTL;
  const ownFingerprint = fingerprintBytes(o.fingerprint);
  const started = performance.now();
  const sentNonces = new Set<string>();
  const candidates = [...o.candidates];
  let heardPeer: PunchCandidate | undefined;
  let confirmed: PunchCandidate | undefined;
  let peerFingerprint: string | undefined;
  let probesSent = 0;
  let ttl = -1;

  const send = (p: PunchProbe, to: { address: string; port: number }) => {
    o.socket.send(encodePunchProbe(p, o.key, o.sessionId), to.port, to.address);
  };
  const setTtl = (t: number) => {
    if (t === ttl) return;
    o.socket.setTTL(t);
    ttl = t;
  };
  const sendProbes = () => {
    const low = performance.now() - started < lowPhase && heardPeer === undefined;
    setTtl(low ? lowTtl : NORMAL_TTL);
    for (const c of candidates) {
      const nonce = randomBytes(PUNCH_NONCE_BYTES);
      sentNonces.add(Buffer.from(nonce).toString("hex"));
      send({ kind: "probe", role: o.role, nonce, fingerprint: ownFingerprint }, c);
      probesSent++;
    }
  };
  const find = (address: string, port: number): PunchCandidate => {
    const known = candidates.find((c) => c.address === address && c.port === port);
    if (known) return known;
    // The peer reached us from an address the node did not report (its mapping moved): it authenticated, so use it.
    const learned: PunchCandidate = { address, port, via: "mapping" };
    candidates.push(learned);
    return learned;
  };

  return await new Promise<PunchResult>((resolve, reject) => {
    const onMessage = (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      const p = decodePunchProbe(msg, o.key, o.sessionId);
      if (!p || p.role === o.role) return;
      const from = find(rinfo.address, rinfo.port);
      if (p.role === "callee") peerFingerprint ??= colonHex(p.fingerprint);
      if (p.kind === "probe") {
        if (!heardPeer) o.log?.(`punch: heard ${from.via} ${from.address}:${from.port}`);
        heardPeer ??= from;
        setTtl(NORMAL_TTL);
        for (let i = 0; i < ACK_COPIES; i++) {
          send({ kind: "ack", role: o.role, nonce: p.nonce, fingerprint: ownFingerprint }, from);
        }
      } else if (sentNonces.has(Buffer.from(p.nonce).toString("hex"))) {
        // Prefer the LAN path when both answer: the first confirmation wins, and LAN probes go out first.
        confirmed ??= from;
      }
      if (confirmed && heardPeer) finish();
    };
    const onError = () => {
      // ICMP unreachable from a router that answers unsolicited packets: expected while punching; keep going.
    };
    const timer = setInterval(sendProbes, intervalMs);
    const deadline = setTimeout(() => {
      cleanup();
      reject(
        new DirectChannelError(
          "ERR_DIRECT_PUNCH",
          `Cannot punch a path to the peer: no confirmation within ${deadlineMs} ms (${probesSent} probes sent${heardPeer ? ", peer heard" : ""})`,
        ),
      );
    }, deadlineMs);
    const cleanup = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      o.socket.off("message", onMessage);
      o.socket.off("error", onError);
    };
    const finish = () => {
      cleanup();
      const remote = confirmed!;
      resolve({
        remote: { address: remote.address, port: remote.port, via: remote.via },
        elapsedMs: performance.now() - started,
        ...(peerFingerprint !== undefined && o.role === "caller" ? { peerFingerprint } : {}),
        probesSent,
      });
    };
    o.socket.on("message", onMessage);
    o.socket.on("error", onError);
    sendProbes();
  });
}
