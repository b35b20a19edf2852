/** @module Metrics-scrape bench: how long one /metrics scrape of a node with many devices takes, and how long it holds other requests, against the node's own /healthz in the same run. */
/*
 *   bun bench/metrics-scrape.ts [--devices 1000000] [--scrapes 8]
 *
 * A Prometheus server scrapes every 15 s; whatever the scrape's refresh does on the event loop, every request in
 * flight waits for. The reference is the same node's /healthz (no store read) answered between scrapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DeviceStore } from "../control/store/device-store.ts";
import { openControlStore } from "../control/store/open-control-store.ts";
import { firstLine } from "./lib/first-line.ts";
import { formatTable } from "./lib/format-table.ts";
import { median } from "./lib/own-process-pairs.ts";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string", default: "1000000" },
    scrapes: { type: "string", default: "8" },
  },
});
const DEVICES = Number(flags.devices);
const SCRAPES = Number(flags.scrapes);
if (!Number.isSafeInteger(DEVICES) || DEVICES < 1 || !Number.isSafeInteger(SCRAPES) || SCRAPES < 1)
  throw new RangeError("Cannot run: --devices and --scrapes take positive integers");
const MAIN = join(import.meta.dir, "..", "bin/pvrlink.ts");

/** Milliseconds each of `n` back-to-back GETs of `url` took. */
async function timedGets(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await fetch(url)).arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-bench-metrics-"));
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  try {
    const db = await openControlStore(join(dir, "control.db"));
    const names = Array.from({ length: DEVICES }, (_, i) => `m-${String(i).padStart(7, "0")}`);
    await new DeviceStore(db).enrollMany(names);
    await db.close();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ rateLimitPerSec: 1e9, rateLimitBurst: 1e9 }));
    await using node = Bun.spawn(
      [
        "bun",
        MAIN,
        "control",
        "serve",
        "--data",
        dir,
        "--http",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
      ].concat(["--insecure-http", "--config", join(dir, "config.json")]),
      { stdin: "ignore", stdout: "pipe", stderr: "ignore" },
    );
    const { url } = JSON.parse(await firstLine(node)) as { url: string };
    await timedGets(`${url}/healthz`, 200); // warm-up
    const idle = await timedGets(`${url}/healthz`, 500);
    const scrapes: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      // A probe loop of /healthz while the scrape is in flight: its slowest answer is how long the loop was held.
      let inFlight = true;
      const probes: number[] = [];
      const probe = (async () => {
        while (inFlight) probes.push(...(await timedGets(`${url}/healthz`, 1)));
      })();
      const t0 = performance.now();
      await (await fetch(`${url}/metrics`)).text();
      scrapes.push(performance.now() - t0);
      inFlight = false;
      await probe;
      held.push(Math.max(...probes));
    }
    const ms = (x: number) => x.toFixed(1);
    console.log(
      `${new Date().toISOString()}, ${DEVICES} devices, load average ${loadAtStart.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)}`,
    );
    console.log(
      formatTable(
        ["request", "median ms", "max ms", "n"],
        [
          ["GET /healthz, idle (reference)", ms(median(idle)), ms(Math.max(...idle)), String(idle.length)],
          ["GET /metrics", ms(median(scrapes)), ms(Math.max(...scrapes)), String(scrapes.length)],
          [
            "GET /healthz during a scrape, slowest",
            ms(median(held)),
            ms(Math.max(...held)),
            String(held.length),
          ],
        ],
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
