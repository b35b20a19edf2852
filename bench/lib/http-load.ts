/** @module HTTP load for benches: a closed loop (N clients back to back) and an open loop (a fixed arrival rate, latency from each request's scheduled time). */

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The arrival rate an open loop was asked for; absent for a closed loop. */
  targetPerSec?: number;
  /** CPU time (user + system) the serving process spent per answered request, in µs, when its pid was given. */
  cpuMicros?: number;
  /** Milliseconds per second the serving process's event loop was ready to run but waited for a CPU. */
  runQueueMsPerSec?: number;
}

/** Which process serves the requests, so its CPU time per request is measured beside the rate. */
export interface CpuOf {
  pid?: number | undefined;
}

import { cpuSecondsOf, runQueueSecondsOf } from "./process-cpu.ts";

/** What the serving process used over a round: CPU time, and time its event loop waited for a CPU. */
function serverClock(pid: number | undefined): () => { cpuSeconds?: number; runQueueSeconds?: number } {
  if (pid === undefined) return () => ({});
  const cpu0 = cpuSecondsOf(pid);
  const wait0 = runQueueSecondsOf(pid);
  return () => ({ cpuSeconds: cpuSecondsOf(pid) - cpu0, runQueueSeconds: runQueueSecondsOf(pid) - wait0 });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Counts refusals by code, printed so an error count is never a mystery (a 4xx answer is not a session). */
class Refusals {
  readonly #codes = new Map<string, number>();
  count = 0;

  async read(res: Response): Promise<void> {
    const body = await res.text();
    if (res.ok) return;
    this.count++;
    const code = /"code":"([a-z_]+)"/.exec(body)?.[1] ?? String(res.status);
    this.#codes.set(code, (this.#codes.get(code) ?? 0) + 1);
  }

  report(name: string): void {
    if (this.#codes.size > 0)
      console.error(`${name}: refusals ${JSON.stringify(Object.fromEntries(this.#codes))}`);
  }
}

function summarise(
  name: string,
  latencies: number[],
  o: { errors: number; seconds: number; cpuSeconds?: number; runQueueSeconds?: number },
): LoadResult {
  latencies.sort((a, b) => a - b);
  const { errors, seconds, cpuSeconds, runQueueSeconds } = o;
  return {
    ...(cpuSeconds === undefined ? {} : { cpuMicros: (cpuSeconds * 1e6) / Math.max(1, latencies.length) }),
    ...(runQueueSeconds === undefined ? {} : { runQueueMsPerSec: (runQueueSeconds * 1000) / seconds }),
    name,
    requests: latencies.length,
    errors,
    perSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** N closed-loop clients for `seconds` after a 1 s warm-up; every response body is read completely. */
export async function closedLoop(
  name: string,
  o: { concurrency: number; seconds: number } & CpuOf,
  send: (worker: number) => Promise<Response>,
): Promise<LoadResult> {
  const refusals = new Refusals();
  const run = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: o.concurrency }, async (_, w) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await refusals.read(await send(w));
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return latencies;
  };
  await run(1000, false);
  const before = refusals.count;
  const used = serverClock(o.pid);
  const t0 = performance.now();
  const latencies = await run(o.seconds * 1000, true);
  const elapsed = (performance.now() - t0) / 1000;
  const server = used();
  refusals.report(name);
  return summarise(name, latencies, { errors: refusals.count - before, seconds: elapsed, ...server });
}

/** The open loop's shortest sleep between batches, in ms: Bun's timers do not sleep for less. */
export const PACER_MIN_SLEEP_MS = 1;

/**
 * Requests at a fixed rate for `seconds` (after a 1 s warm-up at the same rate), whatever the answers' pace:
 * each latency runs from the moment its request was due, not from when the generator got round to it, so a
 * stalled server shows as latency instead of as a lower rate (no coordinated omission). Requests go out in
 * turn over `workers` clients, each with one request in flight at most, as a recorder sends its requests on its
 * one connection: a request due while its client waits goes out when the answer is in, its wait counted. (Sent
 * at once instead, a stall made the client open a new connection per late request, hundreds over HTTPS, and the
 * node's TLS handshakes for them turned a stall of a few ms into one of hundreds: the bench's, not a recorder's.)
 */
export async function openLoop(
  name: string,
  o: { perSec: number; seconds: number; workers: number } & CpuOf,
  send: (worker: number) => Promise<Response>,
): Promise<LoadResult> {
  const refusals = new Refusals();
  const intervalMs = 1000 / o.perSec;
  // The last request of each client: the next one on that client goes out once it is answered.
  const last: Promise<void>[] = Array.from({ length: o.workers }, () => Promise.resolve());
  const run = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    const start = performance.now();
    let sent = 0;
    while (true) {
      const now = performance.now();
      if (now - start >= ms) break;
      // Everything due by now is queued; the timer below only sets the pace between batches.
      const due = Math.floor((now - start) / intervalMs) + 1;
      for (; sent < due; sent++) {
        const at = start + sent * intervalMs;
        const w = sent % o.workers;
        last[w] = last[w]!.then(async () => {
          await refusals.read(await send(w));
          if (record) latencies.push(performance.now() - at);
        });
      }
      // At least PACER_MIN_SLEEP_MS: a shorter Bun.sleep() returns at once, and the pacer spun until the next
      // request fell due (38,000-158,000 turns/s, 0.2-0.57 s of CPU per second on the two cores the node serves
      // on; docs/benchmarks.md, round 7). What falls due meanwhile goes out on waking, its wait counted.
      await Bun.sleep(Math.max(PACER_MIN_SLEEP_MS, start + sent * intervalMs - performance.now()));
    }
    await Promise.all(last);
    return latencies;
  };
  await run(1000, false);
  const before = refusals.count;
  const used = serverClock(o.pid);
  const t0 = performance.now();
  const latencies = await run(o.seconds * 1000, true);
  const elapsed = (performance.now() - t0) / 1000;
  const server = used();
  refusals.report(name);
  return {
    ...summarise(name, latencies, { errors: refusals.count - before, seconds: elapsed, ...server }),
    targetPerSec: o.perSec,
  };
}
