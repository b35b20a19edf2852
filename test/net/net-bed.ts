/** @module The NAT test bed: real network namespaces with a wan, NAT routers and home hosts, for recorder scenarios. */
/*
 * README (for whoever writes the recorder scenarios on top of this):
 *
 *   await using bed = await createNetBed({ udpTimeoutSec: 3 });      // preflight + stale cleanup + topology
 *   const node = bed.runIn(bed.wan.ns, ["bun", "bin/pvrlink.ts", "node", "--listen", `${NODE_ADDR}:0`]);
 *   const rec1 = bed.runIn(bed.home(1).ns, ["dist/pvrlink-linux-x64", "recorder", ...]);
 *   await rec1.waitForLine(/registered as (\S+)/);                   // poll with a deadline, never sleep
 *   await bed.portForward(2, { proto: "tcp", wanPort: 7000, lanPort: 7000 });
 *   const newAddr = await bed.changeWanAddress(1);                    // dynamic IP: old mappings die
 *   await bed.flushConntrack(2);                                      // router reboot: all mappings die
 *   await using imp = await bed.impair(1, { down: { delayMs: 100, lossPercent: 5 } });
 *   await waitFor("mapping gone", async () => (await bed.mappings(1)).length === 0);   // waitFor: demo/wait-for.ts
 *   await bed.setUdpTimeout(1, 30);                                   // e.g. keepalive longer than the timeout
 *
 * Start Bun programs with `process.execPath` (the bun running the test). `test/net/probe.ts` has small UDP/TCP
 * probes (echo that reports the source it sees and can push, client, tcp listen/connect, RTT/loss meter).
 * `bed.home(n)` gives { ns, routerNs, lanAddr, routerLanAddr, wanAddr (current), wanNet }.
 *
 * Topology (all addresses exist only inside the namespaces the bed creates):
 *
 *   [wan ns] node address NODE_ADDR=100.64.0.1 (on lo); rN = 100.64.N.1/24 toward router N
 *      |  veth rN <-> wan0
 *   [router N] wan0 = 100.64.N.2/24 (changeWanAddress: .3, .4, ...), lan0 = LAN .1; nftables masquerade on wan0
 *      |  (`mapping`: "port-preserving" plain masquerade; "random" masquerade fully-random; "address-dependent"
 *      |  UDP masqueraded to one port, the LAN port XOR a key taken from the destination address, so one public
 *      |  port per destination address whatever its port: source-nat.ts says how and why),
 *      |  forward policy drop except LAN->wan, established/related, and DNAT'ed (port-forwarded) flows
 *      |  veth lan0 <-> eth0
 *   [home N] eth0 = 192.168.N.2/24 (lanSubnets "identical": every home 192.168.1.2), default via the router
 *
 * Every process started with `bed.runIn` is killed at teardown; teardown also kills whatever else runs in the
 * namespaces and deletes them, and it runs from `await using`, `destroy()` in afterAll, and on process exit.
 * Namespaces are named `pvrnet-<pid>-<random>-<role>`; a new bed first removes those whose pid is dead.
 */

import type { ChildProcess } from "../../demo/child-process.ts";
import { type ConntrackEntry, parseConntrackTable } from "./conntrack-table.ts";
import { buildHome, type Home } from "./home-topology.ts";
import { type Impairment, type ImpairOptions, pythonPath, startImpairment } from "./impairment.ts";
import {
  deleteNamespace,
  ipBatch,
  NS_PREFIX,
  nft,
  preflight,
  readInNs,
  removeStaleNamespaces,
  sysctl,
} from "./ns-admin.ts";
import { exec, type RunOptions, runIn } from "./run-in.ts";
import type { MappingBehaviour } from "./source-nat.ts";

/** Where the control node lives: the wan namespace's service address. */
export const NODE_ADDR = "100.64.0.1";

export interface NetBedOptions {
  /** Number of home+router pairs, 1..9. Default 2. */
  homes?: number;
  /** Router conntrack UDP timeout (both the unreplied and the "stream" timeout), seconds. Default 3. */
  udpTimeoutSec?: number;
  /**
   * "port-preserving" (plain masquerade: keeps the LAN source port when free, one mapping for all destinations),
   * "address-dependent" (UDP: one public port per destination address, whatever its port) or "random"
   * (masquerade fully-random: a new random port per destination address and port, i.e. symmetric NAT).
   * The rules and why they are built so: source-nat.ts.
   */
  mapping?: MappingBehaviour;
  /** "distinct": home N is 192.168.N.0/24; "identical": every home is 192.168.1.0/24, as real homes often are. */
  lanSubnets?: "distinct" | "identical";
  /**
   * What a router does with an unsolicited packet to its wan address. "answer" (default, as before): no input
   * filter, so its own stack answers (UDP: ICMP port unreachable, TCP: RST) and keeps a conntrack entry for the
   * flow, which can take the very port a later outbound mapping wanted. "drop": an input filter drops it silently.
   */
  unsolicited?: "answer" | "drop";
  /** Per-router overrides, index 0 = router 1: e.g. one symmetric side. */
  routers?: ReadonlyArray<{ mapping?: MappingBehaviour; unsolicited?: "answer" | "drop" }>;
  /** Hosts on router 1's LAN (a bridge), default 1; host k >= 2 is `bed.lanHost(k)`, 192.168.1.(k+1). */
  lanHosts?: number;
}

export interface PortForward {
  proto: "tcp" | "udp";
  wanPort: number;
  lanPort: number;
}

const CONNTRACK_FLUSH = `${import.meta.dir}/conntrack-flush.py`;
const live = new Set<NetBed>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test runner exits without running afterAll: synchronous, because "exit" allows no awaits.
  process.on("exit", () => {
    for (const bed of live) bed.destroySync();
  });
}

export class NetBed implements AsyncDisposable {
  readonly runId: string;
  readonly wan: { ns: string; nodeAddr: string };
  readonly #homes: Home[] = [];
  readonly #extraHosts: Home[] = [];
  readonly #opts: Required<NetBedOptions>;
  readonly #procs = new Set<ChildProcess>();
  readonly #impairments = new Set<Impairment>();
  #destroyed = false;

  constructor(opts: NetBedOptions) {
    this.#opts = {
      homes: opts.homes ?? 2,
      udpTimeoutSec: opts.udpTimeoutSec ?? 3,
      mapping: opts.mapping ?? "port-preserving",
      lanSubnets: opts.lanSubnets ?? "distinct",
      unsolicited: opts.unsolicited ?? "answer",
      routers: opts.routers ?? [],
      lanHosts: opts.lanHosts ?? 1,
    };
    if (!Number.isInteger(this.#opts.lanHosts) || this.#opts.lanHosts < 1 || this.#opts.lanHosts > 9) {
      throw new RangeError(`Cannot create net bed: lanHosts ${this.#opts.lanHosts} not in 1..9`);
    }
    if (!Number.isInteger(this.#opts.homes) || this.#opts.homes < 1 || this.#opts.homes > 9) {
      throw new RangeError(`Cannot create net bed: homes ${this.#opts.homes} not in 1..9`);
    }
    this.runId = `${process.pid}-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16)}`;
    this.wan = { ns: `${NS_PREFIX}${this.runId}-wan`, nodeAddr: NODE_ADDR };
    for (let n = 1; n <= this.#opts.homes; n++) {
      const lan = this.#opts.lanSubnets === "identical" ? 1 : n;
      this.#homes.push({
        index: n,
        ns: `${NS_PREFIX}${this.runId}-h${n}`,
        routerNs: `${NS_PREFIX}${this.runId}-r${n}`,
        lanAddr: `192.168.${lan}.2`,
        routerLanAddr: `192.168.${lan}.1`,
        wanAddr: `100.64.${n}.2`,
        wanNet: `100.64.${n}.0/24`,
      });
    }
    const first = this.#homes[0]!;
    for (let k = 2; k <= this.#opts.lanHosts; k++) {
      this.#extraHosts.push({
        ...first,
        ns: `${NS_PREFIX}${this.runId}-h1x${k}`,
        lanAddr: `192.168.1.${k + 1}`,
      });
    }
  }

  get namespaces(): string[] {
    return [
      this.wan.ns,
      ...this.#homes.flatMap((h) => [h.routerNs, h.ns]),
      ...this.#extraHosts.map((h) => h.ns),
    ];
  }

  /**
   * Every host by one number: 1..homes are the homes' hosts, then router 1's extra LAN hosts in order (with
   * `homes: 1, lanHosts: 2`, host 2 is lanHost(2)): what a scenario that places recorders by number needs.
   */
  host(index: number): Home {
    return index <= this.#homes.length ? this.home(index) : this.lanHost(index - this.#homes.length + 1);
  }

  /** Host k (2..lanHosts) on router 1's LAN, beside home 1's host: same router, same subnet, no hairpinning. */
  lanHost(k: number): Home {
    const h = this.#extraHosts[k - 2];
    if (!h) throw new RangeError(`No LAN host ${k}: router 1 has hosts 1..${this.#opts.lanHosts}`);
    return h;
  }

  get homes(): readonly Home[] {
    return this.#homes;
  }

  home(index: number): Home {
    const h = this.#homes[index - 1];
    if (!h) throw new RangeError(`No home ${index}: the bed has homes 1..${this.#homes.length}`);
    return h;
  }

  /** Starts a process in a namespace of this bed; it is killed at teardown if still running. */
  runIn(ns: string, argv: string[], opts: RunOptions = {}): ChildProcess {
    if (!this.namespaces.includes(ns))
      throw new RangeError(`Namespace ${ns} is not part of net bed ${this.runId}`);
    const p = runIn(ns, argv, opts);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  async build(): Promise<void> {
    const w = this.wan.ns;
    await exec(["ip", "netns", "add", w]);
    await ipBatch(w, [
      "link set lo up",
      `addr add ${NODE_ADDR}/32 dev lo`,
      // Moved behind the impairment rules (see impairment.ts); nothing else changes for plain traffic.
      "rule add pref 100 lookup local",
      "rule del pref 0",
    ]);
    await sysctl(w, { "net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 0 });
    for (const h of this.#homes)
      await buildHome(w, h, {
        nodeAddr: NODE_ADDR,
        lanHosts: this.#opts.lanHosts,
        extraHosts: this.#extraHosts,
        udpTimeoutSec: this.#opts.udpTimeoutSec,
        mapping: this.#opts.mapping,
        unsolicited: this.#opts.unsolicited,
        router: this.#opts.routers[h.index - 1] ?? {},
      });
  }

  /** Adds a port forward (DNAT) on home N's router from its wan address to the home host. */
  async portForward(index: number, pf: PortForward): Promise<void> {
    const h = this.home(index);
    await nft(
      h.routerNs,
      `add rule ip pvrnat prerouting iifname "wan0" ${pf.proto} dport ${pf.wanPort} dnat to ${h.lanAddr}:${pf.lanPort}\n`,
    );
  }

  /**
   * Moves home N's router to the next wan address (dynamic IP). Deleting the old address makes the kernel's
   * masquerade drop every mapping made with it, so the next outbound packet gets a mapping on the new address.
   */
  async changeWanAddress(index: number): Promise<string> {
    const h = this.home(index);
    const last = Number(h.wanAddr.split(".")[3]);
    const next = `100.64.${index}.${last >= 250 ? 2 : last + 1}`;
    await ipBatch(h.routerNs, [
      `addr add ${next}/24 dev wan0`,
      `addr del ${h.wanAddr}/24 dev wan0`,
      `route replace default via 100.64.${index}.1`,
    ]);
    h.wanAddr = next;
    return next;
  }

  /** Empties home N's router conntrack table (a router reboot: every mapping and forward state is lost). */
  async flushConntrack(index: number): Promise<void> {
    await exec(["ip", "netns", "exec", this.home(index).routerNs, pythonPath(), CONNTRACK_FLUSH]);
  }

  /** Changes home N's router UDP mapping timeout (seconds) from now on; existing entries keep their timer. */
  async setUdpTimeout(index: number, seconds: number): Promise<void> {
    await sysctl(this.home(index).routerNs, {
      "net.netfilter.nf_conntrack_udp_timeout": seconds,
      "net.netfilter.nf_conntrack_udp_timeout_stream": seconds,
    });
  }

  /** The TCP/UDP conntrack entries (NAT mappings among them) home N's router holds now. */
  async mappings(index: number): Promise<ConntrackEntry[]> {
    return parseConntrackTable(await readInNs(this.home(index).routerNs, "/proc/net/nf_conntrack"));
  }

  /** Delays and drops packets on home N's wan link until the returned handle is stopped (see impairment.ts). */
  async impair(index: number, opts: ImpairOptions): Promise<Impairment> {
    const h = this.home(index);
    const imp = await startImpairment(this.wan.ns, index, h.wanNet, NODE_ADDR, opts);
    this.#procs.add(imp.process);
    this.#impairments.add(imp);
    return imp;
  }

  /** Kills every process, removes every namespace. Safe to call twice; errors are collected, not thrown early. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    const errors: string[] = [];
    for (const imp of this.#impairments) await imp.stop().catch(() => {});
    await Promise.all([...this.#procs].map((p) => p.stop()));
    for (const ns of this.namespaces) {
      await deleteNamespace(ns).catch((e: Error) => {
        if (!/No such file/.test(e.message)) errors.push(e.message);
      });
    }
    if (errors.length > 0) throw new Error(`Net bed ${this.runId} teardown: ${errors.join("; ")}`);
  }

  /** Synchronous teardown for the process "exit" hook. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const ns of this.namespaces) {
      const pids = Bun.spawnSync(["ip", "netns", "pids", ns]).stdout.toString().split("\n");
      for (const pid of pids.filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {}
      }
      Bun.spawnSync(["ip", "netns", "del", ns]);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

/** Checks the machine (throws NetBedUnavailableError, one line), removes stale beds, and builds a new one. */
export async function createNetBed(opts: NetBedOptions = {}): Promise<NetBed> {
  await preflight();
  await removeStaleNamespaces();
  const bed = new NetBed(opts);
  installExitHook();
  live.add(bed);
  try {
    await bed.build();
  } catch (e) {
    await bed.destroy().catch(() => {});
    throw e;
  }
  return bed;
}
