/** @module The control bench's report: its HTTP and UDP tables, bench/out/control.json, and its section of docs/benchmarks.md. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "./format-table.ts";
import type { LoadResult } from "./http-load.ts";
import type { UdpResult } from "./udp-blast.ts";

export type Figures = {
  date: string;
  /** 1-minute load average at the start and at the end of the run: how much else the shared cores ran. */
  loadAvg: number[];
  machine: { cpus: number; model: string; bun: string };
  command: string;
  devices: number;
  /** --pin: the core the serving process had alone, and the cores of the load generator and callees. */
  pinned?: { server: string; clients: string };
  populateSec: number;
  http: LoadResult[];
  udp: Record<"reference" | "first" | "unchanged" | "rebind" | "keepalive", UdpResult & { name: string }>;
};

/** The HTTP rows, each against the reference over the same scheme (plain HTTP or HTTPS). */
export function httpTable(http: LoadResult[]): string {
  const ref = (r: LoadResult) =>
    http.find(
      (x) => x.name.startsWith("trivial Hono") && x.name.includes("HTTPS") === r.name.includes("HTTPS"),
    )!;
  const cpu = (r: LoadResult) => r.cpuMicros ?? Number.NaN;
  return formatTable(
    [
      "HTTP (loopback; closed loop unless open)",
      "req/s",
      "vs Hono, same scheme",
      "CPU µs each",
      "by CPU vs Hono",
      "p50 ms",
      "p99 ms",
      "waits for CPU ms/s",
      "requests",
      "errors",
    ],
    http.map((r) => [
      r.name,
      r.perSec.toFixed(0),
      r.targetPerSec === undefined
        ? `${((r.perSec / ref(r).perSec) * 100).toFixed(1)}%`
        : `(open, ${r.targetPerSec}/s asked)`,
      cpu(r).toFixed(0),
      `${((cpu(ref(r)) / cpu(r)) * 100).toFixed(1)}%`,
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      (r.runQueueMsPerSec ?? Number.NaN).toFixed(0),
      String(r.requests),
      String(r.errors),
    ]),
  );
}

export function report(f: Figures, o: { root: string; docs: boolean }): void {
  const u = f.udp;
  const udpTable = formatTable(
    [
      "UDP (loopback, window 256)",
      "datagrams/s",
      "vs echo",
      "CPU µs each",
      "by CPU vs echo",
      "answered",
      "sent",
    ],
    [u.reference, u.first, u.unchanged, u.rebind, u.keepalive].map((r) => [
      r.name,
      r.perSec.toFixed(0),
      `${((r.perSec / u.reference.perSec) * 100).toFixed(1)}%`,
      r.cpuMicros.toFixed(1),
      `${((u.reference.cpuMicros / r.cpuMicros) * 100).toFixed(1)}%`,
      String(r.answered),
      String(r.sent),
    ]),
  );
  const text = f.http.length > 0 ? `${httpTable(f.http)}\n\n${udpTable}` : udpTable;
  console.log(text);
  mkdirSync(join(o.root, "bench/out"), { recursive: true });
  writeFileSync(join(o.root, "bench/out/control.json"), `${JSON.stringify(f, null, 2)}\n`);
  if (o.docs) writeDocs(f, text, o.root);
}

/** Each layout has its own section: a pinned run does not replace the shared-cores one, nor the other way. */
const markers = (f: Figures) =>
  f.pinned
    ? { start: "<!-- control-bench-pinned:start -->", end: "<!-- control-bench-pinned:end -->" }
    : { start: "<!-- control-bench:start -->", end: "<!-- control-bench:end -->" };

/** Replaces only this bench's section of docs/benchmarks.md (between its markers), or appends it. */
function writeDocs(f: Figures, table: string, root: string): void {
  const path = join(root, "docs/benchmarks.md");
  let doc = "";
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    doc = "# Benchmarks\n";
  }
  const { start: START, end: END } = markers(f);
  const section = `${START}
## Control node${f.pinned ? ", the node on a core of its own (--pin)" : ""}

Command: \`${f.command}\` (\`npm\` not needed; \`bun\` from node_modules/.bin).
Machine: ${f.machine.cpus} × ${f.machine.model}, Bun ${f.machine.bun}; ${f.date}. ${
    f.pinned
      ? `The serving process (the node, or a reference) runs alone on CPU ${f.pinned.server}; the load generator and the callee agents on CPU ${f.pinned.clients} (taskset), as clients on other machines would; they still share the memory bus and the kernel (load average`
      : "Node, load generator and references\nshare the machine (load average"
  } ${f.loadAvg.map((l) => l.toFixed(1)).join(" at the start, ")} at the end, out of ${f.machine.cpus} cores). ${f.devices.toLocaleString("en")} devices enrolled directly through the store (${f.populateSec.toFixed(1)} s,
one transaction); every caller is permitted through a group of the callee's own (issue 21 item 1).

\`\`\`
${table}
\`\`\`

- **QUERY -> session** runs the whole check order per request: signed-request verification (HMAC, nonce taken
  before the request goes on and stored with the session's rows, in the shared commit the answer waits for), the permission
  check (the group join, its verdict kept per callee and caller name on sqlite until a list, group or device
  changes), registration and keepalive lookups, a \`status\` trigger to the callee over UDP and its authenticated
  ACK, then session issue (CSPRNG id, password, key; two rows, stored before the answer, in a shared commit) and a
  \`contact\` trigger. Its latency is bounded below by that UDP round trip. The 16 callees are real UDP recorders in
  a process of their own (bench/lib/callee-agents.ts), so the round trip does not wait on the load generator.
- **open loop at 0.5x**: requests at a fixed rate, half the closed loop's QUERY/s of the same scheme, latency from
  each request's scheduled time (no coordinated omission): the issue's "p99 at half the maximum rate".
- **waits for CPU ms/s**: milliseconds per second of the round that the serving process's event loop was ready
  to run but waited for a core (its main thread's run-queue delay, /proc/PID/schedstat): latency the scheduler
  added, not the server. Each of the open loop's 16 clients has one request in flight at most, as a recorder
  has, so a stall is met by queueing (counted from each request's due time), not by hundreds of new TLS
  connections.
- **CPU µs each**: user + system CPU the serving process (node, or reference) spent per answered request, from
  /proc/PID/stat over the measured seconds. req/s moves with whatever else the shared cores run; CPU per request
  much less, so "by CPU vs Hono" is the steadier ratio.
- **signed GET /v1/allow-list** isolates the cost of authentication plus one indexed read.
- **authenticated STUN keepalive**: each datagram is a fresh Binding Request from a distinct device (USERNAME,
  PVRLINK-TIMESTAMP, MESSAGE-INTEGRITY-SHA256, FINGERPRINT); the node verifies it, checks the replay cache, records
  the mapping and answers with an integrity-protected XOR-MAPPED-ADDRESS. Counted: answers received. Rounds over
  the same 100,000 devices: **first contact** (each device's first keepalive since the node started: its secret
  read from the store, its STUN key derived); **mapping unchanged** (every device again from the same source
  port: nothing written behind); **mapping changed** (from a new source port, as after a NAT rebinding: every
  mapping written behind). **Steady state** is what a node serves all day, each device once per interval: the
  node writes an unchanged mapping back once its stored time is two intervals old, so one keepalive in three is
  written, and the row mixes the two rounds' times 2:1 (computed, not a fourth round).
- The references (a trivial Hono route in its own Bun process, over plain HTTP and over HTTPS with the node's own
  certificate, fetched through the same pinned client the callers use; a Bun UDP echo process) are the ceilings
  of the framework and the socket path on this machine, measured in the same run with the same load generator.
  Each HTTP row is compared with the reference of its own scheme.
${END}`;
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  const next =
    i >= 0 && j > i
      ? doc.slice(0, i) + section + doc.slice(j + END.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
