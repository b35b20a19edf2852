/** @module Best-of-N wall and CPU time of a cipher workload, and `openssl speed` as the reference in the same run. */
import { $ } from "bun";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export interface Measure {
  name: string;
  bytes: number;
  /** Best wall time, seconds. */
  seconds: number;
  /** CPU time (user + system) of the best run, seconds. */
  cpuSeconds: number;
  mbps: number;
  cpuSecondsPerGiB: number;
}

/** Best of `runs` by wall time, with that run's process CPU time (both cores count: WebCrypto may use a thread). */
export async function measure(
  name: string,
  bytes: number,
  runs: number,
  fn: () => Promise<unknown>,
): Promise<Measure> {
  let best: Measure | undefined;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = Bun.nanoseconds();
    await fn();
    const seconds = (Bun.nanoseconds() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpuSeconds = (c.user + c.system) / 1e6;
    if (!best || seconds < best.seconds) {
      best = {
        name,
        bytes,
        seconds,
        cpuSeconds,
        mbps: bytes / seconds / 1e6,
        cpuSecondsPerGiB: (cpuSeconds * GIB) / bytes,
      };
    }
  }
  return best as Measure;
}

/** `openssl speed -evp CIPHER -bytes 1048576 -seconds 3 -mr`: bytes per second from its +F line, and its CPU time. */
export async function opensslSpeed(cipher: string): Promise<Measure> {
  const out = await $`openssl speed -evp ${cipher} -bytes ${MIB} -seconds 3 -mr`.quiet().nothrow();
  const text = out.stdout.toString() + out.stderr.toString();
  const f = text.split("\n").find((l) => l.startsWith("+F:"));
  const r = text.split("\n").find((l) => l.startsWith("+R:"));
  if (!f) throw new Error(`bench: openssl speed printed no +F line:\n${text}`);
  const bytesPerSec = Number(f.split(":").at(-1));
  // +R:count:cipher:seconds — openssl times the loop in process CPU time by default (-elapsed not given).
  const [, count, , secs] = (r ?? "").split(":");
  const seconds = Number(secs);
  const bytes = Number(count) * MIB;
  return {
    name: `openssl speed -evp ${cipher} (1 MiB blocks)`,
    bytes,
    seconds,
    cpuSeconds: seconds,
    mbps: bytesPerSec / 1e6,
    cpuSecondsPerGiB: GIB / bytesPerSec,
  };
}
