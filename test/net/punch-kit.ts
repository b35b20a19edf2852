/** @module Runs one hole-punch pair (node rendezvous, callee, caller) in a bed and parses what each side printed. */
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import type { ChildProcess } from "../../demo/child-process.ts";
import type { Home } from "./home-topology.ts";
import { type NetBed, NODE_ADDR } from "./net-bed.ts";

const PEER = join(import.meta.dir, "punch-peer.ts");

export interface PunchRun {
  ok: boolean;
  /** Caller's failure line, e.g. "ERR_DIRECT_PUNCH Cannot punch ...". */
  failure?: string;
  via?: "lan" | "mapping";
  remote?: string;
  /** From the caller's start to the callee's ACCEPTED, as the caller measured. */
  acceptedMs?: number;
  punchMs?: number;
  /** Wall time from spawning the caller to its last line (includes Bun start-up). */
  wallMs: number;
  sent?: { bytes: number; sha256: string; ms: number };
  received?: { bytes: number; sha256: string; ms: number };
  caller: ChildProcess;
  callee: ChildProcess;
}

export interface PunchRunOptions {
  caller: Home;
  callee: Home;
  mib?: number;
  deadlineMs?: number;
  /** Passed to both sides' holePunch (0: no low-TTL phase, the control case). */
  lowTtlPhaseMs?: number;
}

/** Starts a node rendezvous in the wan namespace for one session between dev_a (caller) and dev_b (callee). */
export async function runPunchPair(bed: NetBed, o: PunchRunOptions): Promise<PunchRun> {
  const secrets = { dev_a: randomToken(32), dev_b: randomToken(32) };
  const session = { id: randomToken(16), key: randomToken(32), password: randomToken(16) };
  const node = bed.runIn(bed.wan.ns, [
    process.execPath,
    PEER,
    "node",
    JSON.stringify({ devices: secrets, session: { id: session.id, caller: "dev_a", callee: "dev_b" } }),
  ]);
  const port = Number((await node.waitForLine(/^udp (\d+)$/))[1]);
  const common = {
    node: { host: NODE_ADDR, port },
    session,
    mib: o.mib ?? 1,
    deadlineMs: o.deadlineMs,
    lowTtlPhaseMs: o.lowTtlPhaseMs,
  };
  const callee = bed.runIn(o.callee.ns, [
    process.execPath,
    PEER,
    "callee",
    JSON.stringify({ ...common, deviceId: "dev_b", secret: secrets.dev_b, peerId: "dev_a" }),
  ]);
  const started = performance.now();
  const caller = bed.runIn(o.caller.ns, [
    process.execPath,
    PEER,
    "caller",
    JSON.stringify({ ...common, deviceId: "dev_a", secret: secrets.dev_a, peerId: "dev_b" }),
  ]);
  const first = await caller.waitForLine(/^(accepted|failed) (.*)$/, { timeoutMs: 20_000 });
  const run: PunchRun = { ok: false, wallMs: 0, caller, callee };
  try {
    if (first[1] === "failed") {
      run.failure = first[2]!;
      return run;
    }
    const m = /^(lan|mapping) (\S+) mapping=(\d+) punch=(\d+) accepted=(\d+)$/.exec(first[2]!)!;
    run.via = m[1] as "lan" | "mapping";
    run.remote = m[2]!;
    run.punchMs = Number(m[4]);
    run.acceptedMs = Number(m[5]);
    const sent = await caller.waitForLine(/^(sent (\d+) (\S+) (\d+)|failed (.*))$/, { timeoutMs: 60_000 });
    if (sent[5] !== undefined) {
      run.failure = sent[5];
      return run;
    }
    run.sent = { bytes: Number(sent[2]), sha256: sent[3]!, ms: Number(sent[4]) };
    const got = await callee.waitForLine(/^received (\d+) (\S+) (\d+)$/, { timeoutMs: 20_000 });
    run.received = { bytes: Number(got[1]), sha256: got[2]!, ms: Number(got[3]) };
    run.ok = true;
    return run;
  } finally {
    run.wallMs = performance.now() - started;
    await Promise.all([caller.stop(), callee.stop(), node.stop()]);
  }
}
