/** @module Control-node bench: QUERY throughput, p50/p99 latency (closed loop, and open loop at half the rate) and CPU per request, keepalives/s with HMAC, each against a same-run reference. */
/*
 *   bun bench/control.ts [--devices 100000] [--concurrency 16] [--seconds 5] [--callees 16] [--keepalives 100000]
 *                        [--rate-fraction 0.5]      (the open loop's rate, as a fraction of the closed loop's QUERY/s)
 *                        [--store postgres://...]   (an empty PostgreSQL database; default the embedded sqlite file)
 *                        [--postgres]               (a throwaway PostgreSQL started here, test/support/postgres-server.ts)
 *                        [--only udp|http]          (the UDP rounds, or the HTTP rows, alone; implies --no-docs)
 *                        [--pin]                    (servers on the last core, load generator and callees on the
 *                                                    others, as on separate machines; its own docs section)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
import { httpTable, report } from "./lib/control-report.ts";
import { firstLine } from "./lib/first-line.ts";
import { closedLoop, type LoadResult, openLoop } from "./lib/http-load.ts";
import { pinCpu } from "./lib/pin-cpu.ts";
import { cpuOf, steadyMix, udpBlast } from "./lib/udp-blast.ts";

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
    /** The serving process (node or reference) alone on the last core, everything else on the others. */
    pin: { type: "boolean", default: false },
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
 * --pin: the core a serving process (the node, or a reference) runs on alone, and the cores of the rest (this
 * load generator, the callee agents). On one machine this is the nearest to clients on other machines: without
 * it the node's event loop waited for a core 166-347 ms of each second of the quiet run, and that wait was the tail.
 */
const SERVER_CPU = String(cpus().length - 1);
const CLIENT_CPUS = cpus().length > 1 ? `0-${cpus().length - 2}` : "0";
const serving = <T extends Subprocess>(p: T): T => {
  if (flags.pin) pinCpu(p.pid, SERVER_CPU);
  return p;
};

function spawnEval(code: string): Subprocess<"ignore", "pipe", "inherit"> {
  return serving(
    Bun.spawn(["bun", "-e", code], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "inherit" }),
  );
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  if (flags.pin) pinCpu(process.pid, CLIENT_CPUS);
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
      serving(proc);
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
    if (flags.pin) pinCpu(callees.pid, CLIENT_CPUS);
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
      command: `bun bench/control.ts --devices ${DEVICES} --concurrency ${CONCURRENCY} --seconds ${SECONDS} --callees ${CALLEES} --keepalives ${KEEPALIVES} --rate-fraction ${RATE_FRACTION}${flags.pin ? " --pin" : ""}${flags.postgres ? " --postgres" : flags.store ? " --store postgres://..." : ""}`,
      devices: DEVICES,
      ...(flags.pin ? { pinned: { server: SERVER_CPU, clients: CLIENT_CPUS } } : {}),
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
    report(figures, { root: ROOT, docs: !flags["no-docs"] && flags.only === undefined });
  } finally {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
