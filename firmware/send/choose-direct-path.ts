/** @module The send's "choose direct path" step: TCP to the registered address and a punched QUIC path, best one wins. */
import type { Duplex } from "node:stream";
import type { DirectPath } from "../../protocol/api-types.ts";
import { openSocket } from "../direct/direct-dial.ts";
import { openPunchedTransport, type PunchedPathOptions } from "../direct/punched-dial.ts";

/** Which path carried the direct part: the same LAN (punched to a LAN address), a port forward (TCP), a punched path. */
export type DirectPathKind = DirectPath;

/**
 * Candidates in order: TCP to the registered address (a port forward, or a router that hairpins it inside the
 * home), then QUIC punched to the peer's LAN address, then QUIC punched across the NATs, then the relay. Issue 15
 * listed the LAN first; TCP goes first because, where it connects at all, Bun 1.4.5's node:quic is the slower and
 * dearer transport: on loopback a 256 MiB send ran at 130 MB/s and 5.6 CPU s/GiB per recorder over TCP against
 * 52 MB/s and 10 s/GiB over QUIC (bench/transfer.ts, docs/benchmarks.md), and through the netns routers raw TCP
 * moved 2-10x what the punched QUIC did (docs/nat.md). The LAN punch still wins wherever the TCP dial cannot
 * connect (no forward, no hairpinning), which is the case it exists for.
 */
const RANK: Record<DirectPathKind, number> = { "port-forward": 0, lan: 1, punched: 2 };

export interface ChosenPath {
  kind: DirectPathKind;
  /** Not yet used: the direct channel's REQUEST goes on it next (the session password is single-use). */
  socket: Duplex;
  host: string;
  port: number;
  /** For logs: e.g. the punch time. */
  detail: string;
  close(): Promise<void>;
}

export interface ChooseDirectPathOptions {
  /** The callee's registered TCP address (a port forward or advertised address), if any. */
  forward?: { host: string; port: number };
  /** Punch through the node's rendezvous, if this device knows the node's UDP endpoint. */
  punch?: PunchedPathOptions;
  /** TCP connect timeout. */
  timeoutMs: number;
  /**
   * Once one path works, how long a better-ranked one still pending may take: a LAN punch confirms in about
   * 100 ms, while a TCP connect to a router that drops SYNs would only fail at its timeout.
   */
  graceMs?: number;
  /**
   * Once the punch has failed and only the TCP connect is left, how much longer it may take. A port forward
   * answers within a round trip; a connect still pending after the punch's deadline (3 s) has lost its SYNs and
   * their first retransmission, the mark of a router that drops them, so the relay takes over near the punch
   * deadline instead of at the connect timeout.
   */
  tcpTailMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_GRACE_MS = 300;
const DEFAULT_TCP_TAIL_MS = 500;

interface Attempt {
  /** The best rank this attempt can still produce. */
  bestRank: number;
  /** The punch (as opposed to the TCP connect). */
  punch: boolean;
  settled: boolean;
  result?: ChosenPath;
}

/**
 * Tries every candidate at once and returns the best-ranked path that opened (the others are closed), or
 * undefined with each candidate's failure message. No attempt sends the REQUEST: only the chosen path does.
 */
export async function chooseDirectPath(
  o: ChooseDirectPathOptions,
): Promise<{ chosen?: ChosenPath; failures: string[] }> {
  const failures: string[] = [];
  // Attempts still pending when the choice is made are cancelled, so a TCP connect to a router that drops SYNs
  // does not hold the send (and the process) until its timeout.
  const cancel = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, cancel.signal]) : cancel.signal;
  const attempts: Array<{ state: Attempt; run: Promise<ChosenPath> }> = [];
  if (o.forward) {
    const { host, port } = o.forward;
    attempts.push({
      state: { bestRank: RANK["port-forward"], punch: false, settled: false },
      run: openSocket(host, port, { timeoutMs: o.timeoutMs, signal }).then((socket) => ({
        kind: "port-forward" as const,
        socket,
        host,
        port,
        detail: `tcp ${host}:${port}`,
        close: async () => void socket.destroy(),
      })),
    });
  }
  if (o.punch) {
    attempts.push({
      state: { bestRank: RANK.lan, punch: true, settled: false },
      run: openPunchedTransport(o.punch).then((t) => ({
        kind: t.path.remote.via === "lan" ? ("lan" as const) : ("punched" as const),
        socket: t.socket,
        host: t.path.remote.address,
        port: t.path.remote.port,
        detail: `quic ${t.path.remote.address}:${t.path.remote.port}, punched in ${t.timings.punchMs.toFixed(0)} ms`,
        close: t.close,
      })),
    });
  }
  if (attempts.length === 0) return { failures: ["the callee registered no address"] };

  return await new Promise((resolve) => {
    let best: ChosenPath | undefined;
    let grace: ReturnType<typeof setTimeout> | undefined;
    let tail: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      clearTimeout(tail);
      cancel.abort();
      for (const a of attempts) {
        // Losers, now or when they open later, are closed: only one path carries the session.
        void a.run.then((p) => (p !== best ? p.close() : undefined)).catch(() => {});
      }
      resolve(best ? { chosen: best, failures } : { failures });
    };
    const decide = () => {
      if (attempts.every((a) => a.state.settled)) return finish();
      if (!best) {
        const punchFailed = attempts.some((a) => a.state.punch && a.state.settled);
        if (punchFailed)
          tail ??= setTimeout(() => {
            failures.push(
              `${o.forward?.host}:${o.forward?.port} did not answer a TCP connect (SYNs dropped?)`,
            );
            finish();
          }, o.tcpTailMs ?? DEFAULT_TCP_TAIL_MS);
        return;
      }
      const rank = RANK[best.kind];
      if (!attempts.some((a) => !a.state.settled && a.state.bestRank < rank)) return finish();
      grace ??= setTimeout(finish, o.graceMs ?? DEFAULT_GRACE_MS);
    };
    for (const a of attempts) {
      a.run.then(
        (p) => {
          a.state.settled = true;
          if (done) return;
          if (!best || RANK[p.kind] < RANK[best.kind]) best = p;
          decide();
        },
        (err: unknown) => {
          a.state.settled = true;
          // A connect cancelled once the choice is made is not a failure of its own.
          if (done) return;
          failures.push(err instanceof Error ? err.message : String(err));
          decide();
        },
      );
    }
  });
}
