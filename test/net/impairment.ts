/** @module Delay and loss on one home's wan access link, without sch_netem: policy routing through a TUN device served by delay-line.py. */
/*
 * Rules in the wan namespace (the local-table rule moves from pref 0 to 100 at bed creation, so that packets
 * for the wan's own addresses are impaired too):
 *   pref 10  iif impN lookup local     a packet coming back out of the delay line is delivered...
 *   pref 11  iif impN lookup main      ...or forwarded normally
 *   pref 20+N  iif rN lookup 100+N     up: everything arriving from router N enters the delay line
 *   pref 40+N  to <router N subnet> lookup 100+N   down: everything heading to router N enters it too
 * Table 100+N holds one route, `default dev impN`; when the delay line exits its device and that route vanish,
 * so traffic flows unimpaired rather than being black-holed.
 */

import { join } from "node:path";
import type { ChildProcess } from "../../demo/child-process.ts";
import { ipBatch, sysctl } from "./ns-admin.ts";
import { runIn } from "./run-in.ts";

export interface LinkImpairment {
  /** Added one-way delay in milliseconds (constant; no jitter, so no reordering). */
  delayMs: number;
  /** Probability of dropping each packet, in percent. */
  lossPercent: number;
}

export interface ImpairOptions {
  /** Packets toward the home (wan to router). */
  down?: LinkImpairment;
  /** Packets from the home (router to wan). */
  up?: LinkImpairment;
  /** Seed for the loss draw, for a reproducible run. */
  seed?: number;
}

export interface DirectionStats {
  in: number;
  dropped: number;
  out: number;
}

export interface ImpairmentStats {
  down: DirectionStats;
  up: DirectionStats;
  other: number;
}

const DELAY_LINE = join(import.meta.dir, "delay-line.py");

/** The Debian interpreter when present: pyenv shims cost a shell and a lookup at every start. */
export function pythonPath(): string {
  return Bun.which("python3", { PATH: "/usr/bin:/bin" }) ?? "python3";
}

function spec(l: LinkImpairment | undefined): string {
  if (!l) return "0:0";
  if (!(l.delayMs >= 0 && l.delayMs <= 10_000) || !(l.lossPercent >= 0 && l.lossPercent <= 100)) {
    throw new RangeError(`Cannot impair link: delay ${l.delayMs} ms / loss ${l.lossPercent} % out of range`);
  }
  return `${l.delayMs}:${l.lossPercent}`;
}

/** A running impairment; `stop()` restores the plain link and returns the delay line's packet counts. */
export class Impairment implements AsyncDisposable {
  #stopped: ImpairmentStats | null = null;

  constructor(
    readonly wanNs: string,
    readonly index: number,
    readonly process: ChildProcess,
  ) {}

  async stop(): Promise<ImpairmentStats> {
    if (this.#stopped) return this.#stopped;
    const n = this.index;
    await ipBatch(this.wanNs, [
      `rule del pref ${20 + n}`,
      `rule del pref ${40 + n}`,
      `rule del pref 10 iif imp${n}`,
      `rule del pref 11 iif imp${n}`,
    ]).catch(() => {});
    const mark = this.process.mark();
    await this.process.stop("SIGTERM");
    const line = this.process.lines.slice(mark).find((l) => l.startsWith("stats "));
    if (!line)
      throw new Error(`delay line imp${n} exited without stats: ${this.process.errLines.join(" | ")}`);
    this.#stopped = JSON.parse(line.slice(6)) as ImpairmentStats;
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts impairing the link between the wan namespace and router `index` (1-based). `routerNet` is that
 * link's subnet (e.g. 100.64.1.0/24); `wanSrc` is the address locally generated wan packets should carry.
 */
export async function startImpairment(
  wanNs: string,
  index: number,
  routerNet: string,
  wanSrc: string,
  opts: ImpairOptions,
): Promise<Impairment> {
  const dev = `imp${index}`;
  const argv = [pythonPath(), DELAY_LINE, "--dev", dev, "--down-net", routerNet];
  argv.push("--down", spec(opts.down), "--up", spec(opts.up));
  if (opts.seed !== undefined) argv.push("--seed", String(opts.seed));
  const proc = runIn(wanNs, argv, { label: `delay-line ${dev}` });
  try {
    await proc.waitForLine(/^ready /);
    // A packet the delay line writes back may carry a wan-local source address (the node's own reply):
    // accept_local lets it in, rp_filter off lets it in on a device it would not be routed out of.
    // TCP early demux attaches a local socket (a half-open or established connection) to a packet from rN
    // before the policy rules route it into the delay line, and ip_forward() drops any packet carrying a
    // socket: without this only a SYN got through and every TCP connection to the wan hung.
    await sysctl(wanNs, {
      [`net.ipv4.conf.${dev}.rp_filter`]: 0,
      [`net.ipv4.conf.${dev}.accept_local`]: 1,
      "net.ipv4.tcp_early_demux": 0,
    });
    const table = 100 + index;
    await ipBatch(wanNs, [
      `link set ${dev} up`,
      `route add default dev ${dev} src ${wanSrc} table ${table}`,
      `rule add pref 10 iif ${dev} lookup local`,
      `rule add pref 11 iif ${dev} lookup main`,
      `rule add pref ${20 + index} iif r${index} lookup ${table}`,
      `rule add pref ${40 + index} to ${routerNet} lookup ${table}`,
    ]);
  } catch (e) {
    await proc.stop("SIGKILL");
    throw e;
  }
  return new Impairment(wanNs, index, proc);
}
