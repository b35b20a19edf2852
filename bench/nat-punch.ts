/** @module NAT bench: hole-punch success per router behaviour over N runs, and punched-QUIC vs raw TCP throughput through the same routers. */
/*
 * Usage (root, like test/net):  bun bench/nat-punch.ts [runs=20] [mib=64] [only]
 * Each behaviour gets one bed (test/net/net-bed.ts); each run is a fresh session: a node rendezvous in the wan
 * namespace, a callee and a caller (test/net/punch-peer.ts), 1 MiB sent over the punched path when one opens.
 * Then, on the endpoint-independent "drop" bed, three alternating rounds of `mib` MiB: punched QUIC (the direct
 * channel's clear frames) and a raw TCP copy through a port forward on the callee's router. Writes
 * bench/out/nat-punch.json and prints the tables that docs/nat.md and docs/benchmarks.md quote.
 * With `only` (e.g. "address-dependent"), just the behaviours whose name contains it, no throughput rounds,
 * written to bench/out/nat-punch-only.json: one new row without rerunning the others.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createNetBed, type NetBed, type NetBedOptions, NODE_ADDR } from "../test/net/net-bed.ts";
import { type PunchRun, runPunchPair } from "../test/net/punch-kit.ts";
import { formatTable } from "./lib/format-table.ts";

const PEER = join(import.meta.dir, "..", "test", "net", "punch-peer.ts");
const runs = Number(process.argv[2] ?? 20);
const mib = Number(process.argv[3] ?? 64);
const only = process.argv[4];

interface Behaviour {
  name: string;
  bed: NetBedOptions;
  lanCallee?: boolean;
  lowTtlPhaseMs?: number;
}

const BEHAVIOURS: Behaviour[] = [
  { name: "endpoint-independent mapping, unsolicited dropped", bed: { unsolicited: "drop" } },
  { name: "endpoint-independent mapping, unsolicited answered (ICMP/RST)", bed: { unsolicited: "answer" } },
  {
    name: "  same, without the low-TTL phase (control)",
    bed: { unsolicited: "answer" },
    lowTtlPhaseMs: 0,
  },
  {
    name: "symmetric (masquerade random) on the callee's side",
    bed: { routers: [{}, { mapping: "random" }] },
  },
  { name: "symmetric on the caller's side", bed: { routers: [{ mapping: "random" }, {}] } },
  { name: "symmetric on both sides", bed: { mapping: "random" } },
  {
    name: "address-dependent mapping on the callee's side",
    bed: { routers: [{}, { mapping: "address-dependent" }] },
  },
  {
    name: "address-dependent mapping on the caller's side",
    bed: { routers: [{ mapping: "address-dependent" }, {}] },
  },
  { name: "address-dependent mapping on both sides", bed: { mapping: "address-dependent" } },
  {
    name: "two recorders behind one router (no hairpinning)",
    bed: { lanHosts: 2, unsolicited: "drop" },
    lanCallee: true,
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
};

async function punchRuns(b: Behaviour): Promise<{ runs: PunchRun[] }> {
  await using bed = await createNetBed({ udpTimeoutSec: 30, ...b.bed });
  const out: PunchRun[] = [];
  for (let i = 0; i < runs; i++) {
    out.push(
      await runPunchPair(bed, {
        caller: bed.home(1),
        callee: b.lanCallee ? bed.lanHost(2) : bed.home(2),
        mib: 1,
        ...(b.lowTtlPhaseMs !== undefined ? { lowTtlPhaseMs: b.lowTtlPhaseMs } : {}),
      }),
    );
  }
  return { runs: out };
}

/** The failed runs' error codes (first word of the caller's failure line), "-" when none failed. */
function failureCodes(failed: PunchRun[]): string {
  const codes = new Set(failed.map((r) => r.failure?.split(" ")[0] ?? "bad copy"));
  return [...codes].join(",") || "-";
}

async function tcpCopy(bed: NetBed, port: number): Promise<number> {
  const sink = bed.runIn(bed.home(2).ns, [process.execPath, PEER, "tcp-sink", JSON.stringify({ port })]);
  await sink.waitForLine(/^tcp \d+$/);
  const source = bed.runIn(bed.home(1).ns, [
    process.execPath,
    PEER,
    "tcp-source",
    JSON.stringify({ host: bed.home(2).wanAddr, port, mib }),
  ]);
  const sent = await source.waitForLine(/^sent (\d+) (\S+) (\d+)$/, { timeoutMs: 120_000 });
  const got = await sink.waitForLine(/^received (\d+) (\S+) (\d+)$/, { timeoutMs: 30_000 });
  if (got[2] !== sent[2]) throw new Error("TCP copy differs");
  await Promise.all([sink.stop(), source.stop()]);
  return (mib * 1024 * 1024) / (Number(sent[3]) / 1000) / (1024 * 1024);
}

const results: Array<{
  behaviour: string;
  direct: number;
  runs: number;
  via: string;
  medianMs: number;
  maxMs: number;
  failed: string;
  /** Median wall time of the failed runs, caller start-up to its failure line (the punch deadline is 3 s). */
  failedWallMs: number;
}> = [];
const selected = only === undefined ? BEHAVIOURS : BEHAVIOURS.filter((b) => b.name.includes(only));
if (selected.length === 0) throw new RangeError(`No behaviour's name contains "${only}"`);
for (const b of selected) {
  const { runs: rs } = await punchRuns(b);
  const ok = rs.filter((r) => r.ok && r.received?.sha256 === r.sent?.sha256);
  const times = ok.map((r) => r.acceptedMs!);
  const failed = rs.filter((r) => !ok.includes(r));
  results.push({
    behaviour: b.name,
    direct: ok.length,
    runs: rs.length,
    via: [...new Set(ok.map((r) => r.via))].join(",") || "-",
    medianMs: median(times),
    maxMs: times.length ? Math.max(...times) : Number.NaN,
    failed: failureCodes(failed),
    failedWallMs: median(failed.map((r) => r.wallMs)),
  });
  console.error(`${b.name}: ${ok.length}/${rs.length}`);
}

const throughput: Array<{ round: number; quic: number; tcp: number }> = [];
if (only === undefined) {
  await using bed = await createNetBed({ udpTimeoutSec: 30, unsolicited: "drop" });
  await bed.portForward(2, { proto: "tcp", wanPort: 7100, lanPort: 7100 });
  for (let round = 1; round <= 3; round++) {
    const q = await runPunchPair(bed, { caller: bed.home(1), callee: bed.home(2), mib });
    if (!q.ok || q.received?.sha256 !== q.sent?.sha256)
      throw new Error(`QUIC round ${round} failed: ${q.failure}`);
    const quic = mib / (q.sent!.ms / 1000);
    const tcp = await tcpCopy(bed, 7100);
    throughput.push({ round, quic, tcp });
  }
}

const fmt = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(0));
console.log(`\nHole punch, ${runs} runs per behaviour (punch + QUIC + REQUEST/ACCEPTED, 1 MiB each)\n`);
console.log(
  formatTable(
    ["behaviour", "direct", "path", "median ms", "max ms", "failed with", "failed after ms"],
    results.map((r) => [
      r.behaviour,
      `${r.direct}/${r.runs}`,
      r.via,
      fmt(r.medianMs),
      fmt(r.maxMs),
      r.failed,
      fmt(r.failedWallMs),
    ]),
  ),
);
if (only === undefined) {
  console.log(`\nThroughput through the same two routers, ${mib} MiB per round (MiB/s)\n`);
  console.log(
    formatTable(
      ["round", "punched QUIC (direct channel)", "raw TCP (port forward)"],
      throughput.map((t) => [String(t.round), t.quic.toFixed(1), t.tcp.toFixed(1)]),
    ),
  );
}
await mkdir(join(import.meta.dir, "out"), { recursive: true });
await writeFile(
  join(import.meta.dir, "out", only === undefined ? "nat-punch.json" : "nat-punch-only.json"),
  JSON.stringify(
    { at: new Date().toISOString(), runs, mib, only, node: NODE_ADDR, results, throughput },
    null,
    2,
  ),
);
