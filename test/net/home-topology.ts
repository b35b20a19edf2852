/** @module One home of the NAT test bed: a router namespace (NAT, forward filter, conntrack timeouts) and the host behind it. */
import { ipBatch, nft, sysctl } from "./ns-admin.ts";
import { exec } from "./run-in.ts";
import { type MappingBehaviour, sourceNatChains } from "./source-nat.ts";

export interface Home {
  readonly index: number;
  /** The home host's namespace, where a recorder runs. */
  readonly ns: string;
  readonly routerNs: string;
  readonly lanAddr: string;
  readonly routerLanAddr: string;
  /** The router's current wan (public) address. */
  wanAddr: string;
  /** The wan link's subnet, e.g. 100.64.1.0/24. */
  readonly wanNet: string;
}

/** How a home is built: the bed's options as they apply to this router. */
export interface HomeTopology {
  /** The node's service address in the wan namespace: replies toward the home leave from it. */
  nodeAddr: string;
  /** Hosts on router 1's LAN (1: only the home host). */
  lanHosts: number;
  /** Router 1's extra LAN hosts (host 2 onwards), bridged beside home 1's host. */
  extraHosts: readonly Home[];
  udpTimeoutSec: number;
  mapping: MappingBehaviour;
  unsolicited: "answer" | "drop";
  /** This router's own overrides of mapping and unsolicited. */
  router: { mapping?: MappingBehaviour; unsolicited?: "answer" | "drop" };
}

/**
 * Builds home `h` of a bed: its router and host namespaces, the veth links to the wan and the LAN (a bridge
 * when router 1 has extra LAN hosts), addresses and routes, the router's conntrack timeouts, and its nftables
 * NAT and forward filter.
 */
export async function buildHome(wanNs: string, h: Home, o: HomeTopology): Promise<void> {
  const n = h.index;
  await exec(["ip", "netns", "add", h.routerNs]);
  await exec(["ip", "netns", "add", h.ns]);
  await ipBatch(wanNs, [
    `link add r${n} type veth peer name wan0 netns ${h.routerNs}`,
    `addr add 100.64.${n}.1/24 dev r${n}`,
    `link set r${n} up`,
    // Replies from a socket bound to 0.0.0.0 must leave from the node address, not from 100.64.N.1, or the
    // router's conntrack would not match them to the mapping (a multi-homed UDP server's classic trap).
    `route replace ${h.wanNet} dev r${n} proto kernel scope link src ${o.nodeAddr}`,
  ]);
  const bridged = n === 1 && o.lanHosts > 1;
  const lanLinks = bridged
    ? [
        // A switch: the router's LAN side is a bridge; LAN hosts reach each other without the router's filters.
        "link add lan0 type bridge",
        ...[h, ...o.extraHosts].flatMap((host, i) => [
          `link add lp${i + 1} type veth peer name eth0 netns ${host.ns}`,
          `link set lp${i + 1} master lan0`,
          `link set lp${i + 1} up`,
        ]),
      ]
    : [`link add lan0 type veth peer name eth0 netns ${h.ns}`];
  if (bridged) for (const x of o.extraHosts) await exec(["ip", "netns", "add", x.ns]);
  await ipBatch(h.routerNs, [
    "link set lo up",
    `addr add ${h.wanAddr}/24 dev wan0`,
    "link set wan0 up",
    ...lanLinks,
    `addr add ${h.routerLanAddr}/24 dev lan0`,
    "link set lan0 up",
    `route add default via 100.64.${n}.1`,
  ]);
  if (bridged) {
    for (const x of o.extraHosts) {
      await ipBatch(x.ns, [
        "link set lo up",
        `addr add ${x.lanAddr}/24 dev eth0`,
        "link set eth0 up",
        `route add default via ${h.routerLanAddr}`,
      ]);
    }
  }
  await ipBatch(h.ns, [
    "link set lo up",
    `addr add ${h.lanAddr}/24 dev eth0`,
    "link set eth0 up",
    `route add default via ${h.routerLanAddr}`,
  ]);
  const t = o.udpTimeoutSec;
  await sysctl(h.routerNs, {
    "net.ipv4.ip_forward": 1,
    "net.ipv4.conf.wan0.promote_secondaries": 1,
    "net.netfilter.nf_conntrack_udp_timeout": t,
    // Without this a flow seen both ways for 2 s gets the stream timeout (120 s) instead.
    "net.netfilter.nf_conntrack_udp_timeout_stream": t,
  });
  const own = o.router;
  const mapping = own.mapping ?? o.mapping;
  const unsolicited = own.unsolicited ?? o.unsolicited;
  // "drop": the router's own stack never sees an unsolicited wan packet, so it neither answers nor tracks it.
  const input =
    unsolicited === "drop"
      ? `  chain input {
  type filter hook input priority filter; policy accept;
  iifname "wan0" ct state established,related accept
  iifname "wan0" drop
}
`
      : "";
  await nft(
    h.routerNs,
    `table ip pvrnat {
chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
${sourceNatChains(mapping)}}
table ip pvrfilter {
chain forward {
  type filter hook forward priority filter; policy drop;
  ct state established,related accept
  iifname "lan0" oifname "wan0" accept
  ct status dnat accept
  iifname "lan0" oifname "lan0" accept
}
${input}}
`,
  );
}
