/** @module Control-node bench: QUERY throughput, p50/p99 latency (closed loop, and open loop at half the rate) and CPU per request, keepalives/s with HMAC, each against a same-run reference. */
/*
 *   bun bench/control.ts [--devices 100000] [--concurrency 16] [--seconds 5] [--callees 16] [--keepalives 100000]
 *                        [--rate-fraction 0.5]      (the open loop's rate, as a fraction of the closed loop's QUERY/s)
 *                        [--store postgres://...]   (an empty PostgreSQL database; default the embedded sqlite file)
 *                        [--postgres]               (a throwaway PostgreSQL started here, test/support/postgres-server.ts)
 *                        [--only udp|http]          (the UDP rounds, or the HTTP rows, alone; implies --no-docs)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { DeviceStore } from "../control/store/device-store.ts";
import { openControlStore } from "../control/store/open-control-store.ts";
import { fromBase64url, toBase64url } from "../crypto/random-token.ts";
import { ControlClient } from "../protocol/control-client.ts";
import { buildKeepalive, keepaliveKey } from "../protocol/keepalive-request.ts";
import { nodeFetch } from "../protocol/node-fetch.ts";
import { PostgresServer } from "../test/support/postgres-server.ts";
import { permitCallersOfCallees } from "./lib/bench-callees.ts";
import { formatTable } from "./lib/format-table.ts";
import { closedLoop, type LoadResult, openLoop } from "./lib/http-load.ts";
import { cpuSecondsOf } from "./lib/process-cpu.ts";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "16" },
    seconds: { type: "string", default: "5" },
    callees: { type: "string", default: "16" },
    keepalives: { type: "string", default: "100000" },
    store: { type: "string" },
    postgres: { type: "boolean", default: false },
    "no-docs": { type: "boolean", default: false },
    /** "udp": only the UDP rounds, for profiling the keepalive path; "http": only the HTTP rows (references, signed GET, QUERY). Either leaves docs alone. */
    only: { type: "string" },
    /** The open loop's arrival rate, as a fraction of the closed loop's QUERY rate in the same run. */
    "rate-fraction": { type: "string", default: "0.5" },
  },
});
const DEVICES = Number(flags.devices);
const CONCURRENCY = Number(flags.concurrency);
const SECONDS = Number(flags.seconds);
const CALLEES = Number(flags.callees);
const KEEPALIVES = Math.min(Number(flags.keepalives), DEVICES);
const RATE_FRACTION = Number(flags["rate-fraction"]);
if (flags.only !== undefined && flags.only !== "udp" && flags.only !== "http")
  throw new TypeError(`Cannot run --only ${flags.only}: only "udp" and "http" are known`);
const UDP_ONLY = flags.only === "udp";
const HTTP_ONLY = flags.only === "http";
const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "bin/pvrlink.ts");

/**
 * Sends datagrams with at most `window` unanswered, counting answers; returns answered datagrams per second.
 * The window keeps the kernel's socket buffers from overflowing, so the figure is the receiver's, not loss.
 */
async function udpBlast(
  port: number,
  datagrams: Uint8Array[],
  o: { window?: number; fromPort?: number } = {},
): Promise<{ sent: number; answered: number; perSec: number; fromPort: number }> {
  const window = o.window ?? 256;
  let answered = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: o.fromPort ?? 0,
    socket: {
      data() {
        answered++;
        // Refill once half the window is answered: one wake-up per half window, not per datagram.
        if (wake && sent - answered <= window / 2) {
          const w = wake;
          wake = null;
          w();
        }
      },
    },
  });
  const t0 = performance.now();
  while (sent < datagrams.length) {
    while (sent < datagrams.length && sent - answered < window)
      sock.send(datagrams[sent++]!, port, "127.0.0.1");
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50); // a lost datagram must not stall the run
    });
  }
  const drainUntil = performance.now() + 500;
  while (answered < sent && performance.now() < drainUntil) await Bun.sleep(5);
  const elapsed = (performance.now() - t0) / 1000;
  sock.close();
  return { sent, answered, perSec: answered / elapsed, fromPort: sock.port };
}

interface UdpResult {
  sent: number;
  answered: number;
  perSec: number;
  /** CPU time (user + system) the answering process spent per answered datagram, in µs. */
  cpuMicros: number;
}

/**
 * The steady state a node serves all day, from the two rounds that bound it: each device keeps alive once per
 * interval from an unchanged mapping, and control/store/keepalive-table.ts writes an unchanged mapping back once
 * its stored time is two intervals old, so one keepalive in three is written. Time per keepalive is the mix of
 * the two rounds' times (and CPU per keepalive likewise); nothing here is measured a third time.
 */
function steadyMix(unchanged: UdpResult, written: UdpResult): UdpResult {
  const mix = (a: number, b: number) => (2 / 3) * a + (1 / 3) * b;
  return {
    sent: unchanged.sent + written.sent,
    answered: unchanged.answered + written.answered,
    perSec: 1 / mix(1 / unchanged.perSec, 1 / written.perSec),
    cpuMicros: mix(unchanged.cpuMicros, written.cpuMicros),
  };
}

/**
 * Runs a UDP round and adds the CPU time the answering process spent per answer. Throughput moves with whatever
 * else the two shared cores run; CPU per datagram much less, so the two ratios together say what the node costs.
 */
async function cpuOf<R extends { sent: number; answered: number; perSec: number }>(
  pid: number,
  round: () => Promise<R>,
): Promise<R & UdpResult> {
  const before = cpuSecondsOf(pid);
  const r = await round();
  return { ...r, cpuMicros: ((cpuSecondsOf(pid) - before) * 1e6) / Math.max(1, r.answered) };
}

async function firstLine(proc: { stdout: ReadableStream<Uint8Array> }): Promise<string> {
  const reader = proc.stdout.getReader();
  let out = "";
  const dec = new TextDecoder();
  while (!out.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("process exited before printing its first line");
    out += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return out.slice(0, out.indexOf("\n"));
}

function spawnEval(code: string): Subprocess<"ignore", "pipe", "inherit"> {
  return Bun.spawn(["bun", "-e", code], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  await using pg = flags.postgres ? await PostgresServer.start() : undefined;
  const storeUrl = flags.store ?? (pg ? await pg.freshDatabase() : undefined);
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-bench-control-"));
  const procs: Subprocess[] = [];
  try {
    // 1. Population, written straight through the store in one transaction per table.
    const t0 = performance.now();
    const db = await openControlStore(storeUrl ?? join(dir, "control.db"));
    const store = new DeviceStore(db);
    const names = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(6, "0")}`);
    const devices = await store.enrollMany(names);
    await permitCallersOfCallees(db, devices, { names, callees: CALLEES, callers: CONCURRENCY });
    await db.close();
    const populateSec = (performance.now() - t0) / 1000;
    console.error(`populated ${DEVICES} devices in ${populateSec.toFixed(1)} s`);

    // 2. The node, as operators run it, with limits lifted so the bench measures throughput, not throttling.
    const cfg = join(dir, "bench-config.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        rateLimitPerSec: 1e9,
        rateLimitBurst: 1e9,
        udpRateLimitPerSec: 0,
        triggerDeadlineMs: 3000,
        allowPrivateAddresses: true, // devices register 127.0.0.1
      }),
    );
    // The node over HTTPS (its default), and later over plain HTTP on the same data and ports: the TLS cost.
    const startNode = async (o: { insecure: boolean; http: string; udp: string }) => {
      const proc = Bun.spawn(
        [
          "bun",
          ...(process.env.BENCH_NODE_PROFILE
            ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_NODE_PROFILE}`]
            : []),
          MAIN,
          "control",
          "serve",
          "--data",
          dir,
          "--http",
          o.http,
          "--udp",
          o.udp,
          "--config",
          cfg,
          ...(o.insecure ? ["--insecure-http"] : []),
          ...(storeUrl ? ["--store", storeUrl] : []),
        ],
        { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "ignore" },
      );
      procs.push(proc);
      const first = JSON.parse(await firstLine(proc)) as {
        http: string;
        udp: string;
        url: string;
        pin?: string;
      };
      return { proc, ...first };
    };
    let node = await startNode({ insecure: false, http: "127.0.0.1:0", udp: "127.0.0.1:0" });
    const bound = node;
    const trust = bound.pin === undefined ? undefined : ({ kind: "pin", pin: bound.pin } as const);
    const udpPort = Number(bound.udp.split(":").pop());

    // 3. Callees: real UDP recorders that keep alive and answer status triggers "acceptable", in a process of
    // their own, so a trigger's round trip waits on the node and a recorder, not on the load generator's loop.
    const callees = Bun.spawn(["bun", join(import.meta.dir, "lib/callee-agents.ts")], {
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    procs.push(callees);
    const calleeReady = async () => {
      const line = await firstLine(callees);
      if (line !== "ready") throw new Error(`callee agents answered '${line}'`);
    };
    callees.stdin.write(
      `${JSON.stringify({
        node: { host: "127.0.0.1", port: udpPort },
        devices: devices.slice(0, CALLEES).map((d) => ({ id: d.id, secret: toBase64url(d.secret) })),
      })}\n`,
    );
    callees.stdin.flush();
    await calleeReady();
    const callersAt = (url: string, t: typeof trust) =>
      Array.from({ length: CONCURRENCY }, (_, w) => {
        const d = devices[CALLEES + w]!;
        return new ControlClient({
          baseUrl: url,
          deviceId: d.id,
          secret: toBase64url(d.secret),
          ...(t === undefined ? {} : { trust: t }),
        });
      });
    const callers = callersAt(bound.url, trust);

    // 4. HTTP. References: a trivial Hono route in its own Bun process, over plain HTTP and over HTTPS with the
    // node's own certificate, fetched as the recorders fetch the node (the pinned nodeFetch); then a signed
    // read and QUERY, closed loop and open loop at a fraction of the closed loop's rate.
    const http: LoadResult[] = [];
    const load = { concurrency: CONCURRENCY, seconds: SECONDS };
    for (const tls of UDP_ONLY ? [] : [false, true]) {
      const ref = spawnEval(
        `import { Hono } from "hono"; const app = new Hono(); app.get("/ping", (c) => c.text("ok"));
         const tls = ${tls} ? { cert: Bun.file(${JSON.stringify(join(dir, "tls-cert.pem"))}), key: Bun.file(${JSON.stringify(join(dir, "tls-key.pem"))}) } : undefined;
         const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch, ...(tls ? { tls } : {}) }); console.log(s.port);`,
      );
      procs.push(ref);
      const refPort = Number(await firstLine(ref));
      const get = tls && trust ? nodeFetch(trust) : fetch;
      const url = `${tls ? "https" : "http"}://127.0.0.1:${refPort}/ping`;
      http.push(
        await closedLoop(
          `trivial Hono route (reference), ${tls ? "HTTPS" : "plain HTTP"}`,
          { ...load, pid: ref.pid },
          () => get(url),
        ),
      );
      ref.kill();
    }
    if (!UDP_ONLY)
      http.push(
        await closedLoop("signed GET /v1/allow-list, HTTPS", { ...load, pid: node.proc.pid }, (w) =>
          callers[w]!.raw("GET", "/v1/allow-list"),
        ),
      );
    let k = 0;
    const query = (cs: ControlClient[]) => (w: number) =>
      cs[w]!.raw("POST", "/v1/query", JSON.stringify({ callee: names[k++ % CALLEES] }));
    const queryRounds = async (scheme: string, cs: ControlClient[]) => {
      const closed = await closedLoop(
        `QUERY -> session, ${scheme}`,
        { ...load, pid: node.proc.pid },
        query(cs),
      );
      http.push(closed);
      const perSec = Math.max(1, Math.round(closed.perSec * RATE_FRACTION));
      http.push(
        await openLoop(
          `QUERY -> session, ${scheme}, open loop at ${RATE_FRACTION}x`,
          { perSec, seconds: SECONDS, workers: CONCURRENCY, pid: node.proc.pid },
          query(cs),
        ),
      );
    };
    if (!UDP_ONLY) await queryRounds("HTTPS", callers);
    // Same node, data and ports, restarted: plain HTTP, then HTTPS again, so neither scheme gets the warm run.
    const restart = async (insecure: boolean) => {
      node.proc.kill();
      await node.proc.exited;
      node = await startNode({ insecure, http: bound.http, udp: bound.udp });
      // The new process learns the NAT mappings again.
      callees.stdin.write("keepalive\n");
      callees.stdin.flush();
      await calleeReady();
      return insecure ? callersAt(node.url, undefined) : callersAt(node.url, trust);
    };
    if (!UDP_ONLY) {
      await queryRounds("plain HTTP (--insecure-http)", await restart(true));
      const again = query(await restart(false));
      http.push(await closedLoop("QUERY -> session, HTTPS again", { ...load, pid: node.proc.pid }, again));
    }
    if (HTTP_ONLY) {
      console.log(httpTable(http));
      return;
    }

    // 5. UDP: authenticated keepalives from KEEPALIVES distinct devices vs a plain UDP echo process.
    // Each call builds fresh datagrams (new transaction ids and timestamps): a second round is not a replay.
    const keepalives = () =>
      devices.slice(0, KEEPALIVES).map(
        (d) =>
          buildKeepalive({
            deviceId: d.id,
            key: keepaliveKey(fromBase64url(toBase64url(d.secret))),
            now: Date.now(),
            intervalSec: 25,
          }).bytes,
      );
    const datagrams = keepalives();
    const echo = spawnEval(
      `const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(sock, d, port, addr) { sock.send(d, port, addr); } } });
       console.log(s.port);`,
    );
    procs.push(echo);
    const echoPort = Number(await firstLine(echo));
    const udpRef = await cpuOf(echo.pid, () => udpBlast(echoPort, datagrams));
    echo.kill();
    // First contact: each device's first keepalive since the node started (its secret read from the store,
    // its STUN key derived). Then steady state, what a node serves all day: every device again, a keepalive
    // per device per interval, secret and key cached.
    const udpFirst = await cpuOf(node.proc.pid, () => udpBlast(udpPort, datagrams));
    // From the same source port: every mapping unchanged, so nothing is written behind. Twice, and the second
    // counted: the first round's write-behind (100,000 rows at once) lands in the one after it.
    const samePort = { fromPort: udpFirst.fromPort };
    await udpBlast(udpPort, keepalives(), samePort);
    const udpSteady = await cpuOf(node.proc.pid, () => udpBlast(udpPort, keepalives(), samePort));
    // From a new source port: every mapping changed (a NAT rebinding), so every one is written behind.
    await udpBlast(udpPort, keepalives());
    const udpRebind = await cpuOf(node.proc.pid, () => udpBlast(udpPort, keepalives()));
    const figures = {
      date: new Date().toISOString(),
      loadAvg: [loadAtStart, loadavg()[0] ?? Number.NaN],
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", bun: Bun.version },
      command: `bun bench/control.ts --devices ${DEVICES} --concurrency ${CONCURRENCY} --seconds ${SECONDS} --callees ${CALLEES} --keepalives ${KEEPALIVES} --rate-fraction ${RATE_FRACTION}${flags.postgres ? " --postgres" : flags.store ? " --store postgres://..." : ""}`,
      devices: DEVICES,
      populateSec,
      http,
      udp: {
        reference: { name: "plain UDP echo (reference)", ...udpRef },
        first: { name: "authenticated keepalive, first contact", ...udpFirst },
        unchanged: { name: "keepalive, mapping unchanged", ...udpSteady },
        rebind: { name: "keepalive, mapping changed (written)", ...udpRebind },
        keepalive: { name: "keepalive, steady state (1 in 3 written)", ...steadyMix(udpSteady, udpRebind) },
      },
    };
    report(figures);
  } finally {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

type Figures = {
  date: string;
  /** 1-minute load average at the start and at the end of the run: how much else the shared cores ran. */
  loadAvg: number[];
  machine: { cpus: number; model: string; bun: string };
  command: string;
  devices: number;
  populateSec: number;
  http: LoadResult[];
  udp: Record<"reference" | "first" | "unchanged" | "rebind" | "keepalive", UdpResult & { name: string }>;
};

/** The HTTP rows, each against the reference over the same scheme (plain HTTP or HTTPS). */
function httpTable(http: LoadResult[]): string {
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
      String(r.requests),
      String(r.errors),
    ]),
  );
}

function report(f: Figures): void {
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
  mkdirSync(join(ROOT, "bench/out"), { recursive: true });
  writeFileSync(join(ROOT, "bench/out/control.json"), `${JSON.stringify(f, null, 2)}\n`);
  if (!flags["no-docs"] && flags.only === undefined) writeDocs(f, text);
}

const START = "<!-- control-bench:start -->";
const END = "<!-- control-bench:end -->";

/** Replaces only this bench's section of docs/benchmarks.md (between its markers), or appends it. */
function writeDocs(f: Figures, table: string): void {
  const path = join(ROOT, "docs/benchmarks.md");
  let doc = "";
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    doc = "# Benchmarks\n";
  }
  const section = `${START}
## Control node

Command: \`${f.command}\` (\`npm\` not needed; \`bun\` from node_modules/.bin).
Machine: ${f.machine.cpus} × ${f.machine.model}, Bun ${f.machine.bun}; ${f.date}. Node, load generator and references
share the machine (load average ${f.loadAvg.map((l) => l.toFixed(1)).join(" at the start, ")} at the end, out of ${f.machine.cpus} cores). ${f.devices.toLocaleString("en")} devices enrolled directly through the store (${f.populateSec.toFixed(1)} s,
one transaction); every caller is permitted through a group of the callee's own (issue 21 item 1).

\`\`\`
${table}
\`\`\`

- **QUERY -> session** runs the whole check order per request: signed-request verification (HMAC, nonce stored
  before the request goes on, in a commit shared with the other writes of its event-loop turn), the permission
  check (the group join, its verdict kept per callee and caller name on sqlite until a list, group or device
  changes), registration and keepalive lookups, a \`status\` trigger to the callee over UDP and its authenticated
  ACK, then session issue (CSPRNG id, password, key; two rows, stored before the answer, in a shared commit) and a
  \`contact\` trigger. Its latency is bounded below by that UDP round trip. The 16 callees are real UDP recorders in
  a process of their own (bench/lib/callee-agents.ts), so the round trip does not wait on the load generator.
- **open loop at 0.5x**: requests at a fixed rate, half the closed loop's QUERY/s of the same scheme, latency from
  each request's scheduled time (no coordinated omission): the issue's "p99 at half the maximum rate".
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

await main();
