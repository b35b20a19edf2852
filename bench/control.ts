/** @module Control-node bench: QUERY throughput and p50/p99 latency with 100,000 devices, keepalives/s with HMAC, each against a same-run reference. */
/*
 *   bun bench/control.ts [--devices 100000] [--concurrency 16] [--seconds 5] [--callees 16] [--keepalives 100000]
 *                        [--store postgres://...]   (an empty PostgreSQL database; default the embedded sqlite file)
 *                        [--postgres]               (a throwaway PostgreSQL started here, test/support/postgres-server.ts)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { DeviceStore } from "../control/store/device-store.ts";
import { openControlStore } from "../control/store/open-control-store.ts";
import { fromBase64url, toBase64url } from "../crypto/random-token.ts";
import { ControlClient } from "../protocol/control-client.ts";
import { buildKeepalive, keepaliveKey } from "../protocol/keepalive-request.ts";
import { DeviceAgent } from "../test/support/device-agent.ts";
import { PostgresServer } from "../test/support/postgres-server.ts";
import { formatTable } from "./lib/format-table.ts";

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
  },
});
const DEVICES = Number(flags.devices);
const CONCURRENCY = Number(flags.concurrency);
const SECONDS = Number(flags.seconds);
const CALLEES = Number(flags.callees);
const KEEPALIVES = Math.min(Number(flags.keepalives), DEVICES);
const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "bin/pvrlink.ts");

interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** N closed-loop clients for `seconds` after a 1 s warm-up; every response body is read completely. */
async function closedLoop(
  name: string,
  concurrency: number,
  seconds: number,
  send: (worker: number) => Promise<Response>,
): Promise<LoadResult> {
  // Refusals by code, printed so an error count is never a mystery (a 4xx answer is not a session).
  const errorCodes = new Map<string, number>();
  const run = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const res = await send(w);
          const body = await res.text();
          if (!res.ok) {
            errors++;
            const code = /"code":"([a-z_]+)"/.exec(body)?.[1] ?? String(res.status);
            errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
          }
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return { latencies, errors };
  };
  await run(1000, false);
  const t0 = performance.now();
  const { latencies, errors } = await run(seconds * 1000, true);
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  if (errorCodes.size > 0)
    console.error(`${name}: refusals ${JSON.stringify(Object.fromEntries(errorCodes))}`);
  return {
    name,
    requests: latencies.length,
    errors,
    perSec: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

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

/** User + system CPU seconds a process has used so far (/proc/PID/stat utime and stime, proc(5)). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after its closing parenthesis: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
}

/** USER_HZ: the unit of /proc/PID/stat times, 100 on Linux (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SEC = 100;

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
  await using pg = flags.postgres ? await PostgresServer.start() : undefined;
  const storeUrl = flags.store ?? (pg ? await pg.freshDatabase() : undefined);
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-bench-control-"));
  const procs: Subprocess[] = [];
  const agents: DeviceAgent[] = [];
  try {
    // 1. Population, written straight through the store in one transaction per table.
    const t0 = performance.now();
    const db = await openControlStore(storeUrl ?? join(dir, "control.db"));
    const store = new DeviceStore(db);
    const names = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(6, "0")}`);
    const devices = await store.enrollMany(names);
    await db.transaction(async (tx) => {
      // Each callee lists a group of its own (issue 21 item 1: "@name" resolves only in the list owner's
      // namespace), holding every caller; a group owned by one device permits nobody in another's list.
      for (let i = 0; i < CALLEES; i++) {
        const group = `everyone-${i}`;
        await tx.run("INSERT INTO groups (name_key, owner_id, created_at) VALUES (?, ?, 0)", [
          group,
          devices[i]!.id,
        ]);
        for (let w = 0; w < CONCURRENCY; w++)
          await tx.run("INSERT INTO group_members (group_key, member_key) VALUES (?, ?)", [
            group,
            names[CALLEES + w]!,
          ]);
        await tx.run("INSERT INTO allow_entries (owner_id, entry) VALUES (?, ?)", [
          devices[i]!.id,
          `@${group}`,
        ]);
        await tx.run(
          "INSERT INTO registrations (device_id, address, port, at) VALUES (?, '127.0.0.1', ?, 0)",
          [devices[i]!.id, 30000 + i],
        );
      }
    });
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

    // 3. Callees: real UDP recorders that keep alive and answer status triggers "acceptable".
    for (let i = 0; i < CALLEES; i++) {
      const d = devices[i]!;
      const agent = await DeviceAgent.start(
        { id: d.id, secret: toBase64url(d.secret) },
        { host: "127.0.0.1", port: udpPort },
      );
      await agent.keepalive(3600);
      agents.push(agent);
    }
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

    // 4. HTTP: reference trivial Hono route (separate process, same server setup), a signed read, QUERY.
    const ref = spawnEval(
      `import { Hono } from "hono"; const app = new Hono(); app.get("/ping", (c) => c.text("ok"));
       const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch }); console.log(s.port);`,
    );
    procs.push(ref);
    const refPort = Number(await firstLine(ref));
    const http: LoadResult[] = [];
    http.push(
      await closedLoop("trivial Hono route (reference)", CONCURRENCY, SECONDS, () =>
        fetch(`http://127.0.0.1:${refPort}/ping`),
      ),
    );
    ref.kill();
    http.push(
      await closedLoop("signed GET /v1/allow-list", CONCURRENCY, SECONDS, (w) =>
        callers[w]!.raw("GET", "/v1/allow-list"),
      ),
    );
    let k = 0;
    const queryLoop = (name: string, cs: ControlClient[]) =>
      closedLoop(name, CONCURRENCY, SECONDS, (w) =>
        cs[w]!.raw("POST", "/v1/query", JSON.stringify({ callee: names[k++ % CALLEES] })),
      );
    http.push(await queryLoop("QUERY -> session (status trigger), HTTPS", callers));
    // Same node, data and ports, restarted: plain HTTP, then HTTPS again, so neither scheme gets the warm run.
    const restart = async (insecure: boolean) => {
      node.proc.kill();
      await node.proc.exited;
      node = await startNode({ insecure, http: bound.http, udp: bound.udp });
      for (const a of agents) await a.keepalive(3600); // the new process learns the NAT mappings again
      return insecure ? callersAt(node.url, undefined) : callersAt(node.url, trust);
    };
    http.push(await queryLoop("QUERY -> session, plain HTTP (--insecure-http)", await restart(true)));
    http.push(await queryLoop("QUERY -> session, HTTPS again", await restart(false)));

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
    const tls = http.filter((r) => r.name.includes("HTTPS")).map((r) => r.p50Ms);
    const plain = http.find((r) => r.name.includes("plain HTTP"))?.p50Ms ?? Number.NaN;
    console.error(
      `QUERY p50: HTTPS ${tls.map((v) => v.toFixed(2)).join(" / ")} ms, plain HTTP ${plain.toFixed(2)} ms`,
    );
    // First contact: each device's first keepalive since the node started (its secret read from the store,
    // its STUN key derived). Then steady state, what a node serves all day: every device again, a keepalive
    // per device per interval, secret and key cached.
    const udpFirst = await cpuOf(node.proc.pid, () => udpBlast(udpPort, datagrams));
    // From the same source port: every mapping unchanged, so nothing is written behind. Twice, and the second
    // counted: the first round's write-behind (100,000 rows at once) lands in the one after it.
    const again = { fromPort: udpFirst.fromPort };
    await udpBlast(udpPort, keepalives(), again);
    const udpSteady = await cpuOf(node.proc.pid, () => udpBlast(udpPort, keepalives(), again));
    // From a new source port: every mapping changed (a NAT rebinding), so every one is written behind.
    await udpBlast(udpPort, keepalives());
    const udpRebind = await cpuOf(node.proc.pid, () => udpBlast(udpPort, keepalives()));
    const figures = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", bun: Bun.version },
      command: `bun bench/control.ts --devices ${DEVICES} --concurrency ${CONCURRENCY} --seconds ${SECONDS} --callees ${CALLEES} --keepalives ${KEEPALIVES}${flags.postgres ? " --postgres" : flags.store ? " --store postgres://..." : ""}`,
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
    for (const a of agents) await a[Symbol.asyncDispose]();
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

type Figures = {
  date: string;
  machine: { cpus: number; model: string; bun: string };
  command: string;
  devices: number;
  populateSec: number;
  http: LoadResult[];
  udp: Record<"reference" | "first" | "unchanged" | "rebind" | "keepalive", UdpResult & { name: string }>;
};

function report(f: Figures): void {
  const ceiling = f.http[0]!.perSec;
  const httpTable = formatTable(
    ["HTTP (loopback, closed loop)", "req/s", "vs Hono", "p50 ms", "p99 ms", "requests", "errors"],
    f.http.map((r) => [
      r.name,
      r.perSec.toFixed(0),
      `${((r.perSec / ceiling) * 100).toFixed(1)}%`,
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      String(r.requests),
      String(r.errors),
    ]),
  );
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
  const text = `${httpTable}\n\n${udpTable}`;
  console.log(text);
  mkdirSync(join(ROOT, "bench/out"), { recursive: true });
  writeFileSync(join(ROOT, "bench/out/control.json"), `${JSON.stringify(f, null, 2)}\n`);
  if (!flags["no-docs"]) writeDocs(f, text);
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
share the machine. ${f.devices.toLocaleString("en")} devices enrolled directly through the store (${f.populateSec.toFixed(1)} s,
one transaction); every caller is permitted through a group of the callee's own (issue 21 item 1).

\`\`\`
${table}
\`\`\`

- **QUERY -> session** runs the whole check order per request: signed-request verification (HMAC, nonce insert), the
  group-permission join, registration and keepalive lookups, a \`status\` trigger to the callee over UDP and its
  authenticated ACK, then session issue (CSPRNG id, password, key; two rows in one transaction) and a \`contact\`
  trigger. Its latency is bounded below by that UDP round trip, which is why it sits well under the signed read.
- **signed GET /v1/allow-list** isolates the cost of authentication plus one indexed read.
- **authenticated STUN keepalive**: each datagram is a fresh Binding Request from a distinct device (USERNAME,
  PVRLINK-TIMESTAMP, MESSAGE-INTEGRITY-SHA256, FINGERPRINT); the node verifies it, checks the replay cache, records
  the mapping and answers with an integrity-protected XOR-MAPPED-ADDRESS. Counted: answers received. Two rounds
  over the same devices: **first contact** (each device's first keepalive since the node started: its secret read
  from the store, its STUN key derived) and **steady state** (every device again, as each does once per interval
  all day: the figure a node's capacity follows).
- The references (a trivial Hono route in its own Bun process; a Bun UDP echo process) are the ceilings of the
  framework and the socket path on this machine, measured in the same run with the same load generator.
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
