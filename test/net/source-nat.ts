/** @module The bed routers' source NAT for each mapping behaviour (RFC 4787 section 4.1), as nftables chains. */

/**
 * How a router picks the public port of a flow from its LAN (RFC 4787 section 4.1 terms):
 * - "port-preserving": plain masquerade; keeps the LAN source port when free and uses one mapping for every
 *   destination (endpoint-independent mapping).
 * - "address-dependent": UDP gets one public port per destination address, the same for every port of that
 *   address (address-dependent mapping); TCP and the rest as "port-preserving". See ADDRESS_CLASS_MASK.
 * - "random": masquerade fully-random, a new random port per destination address and port (address-and-port-
 *   dependent mapping, "symmetric NAT").
 */
export type MappingBehaviour = "port-preserving" | "address-dependent" | "random";

/*
 * Address-dependent mapping: public port = LAN source port XOR (class << CLASS_SHIFT), where class is the low
 * 4 bits of the destination's third octet, then the low 4 bits of its fourth. Every outside host of the bed
 * differs there (the node 100.64.0.1 is class 0x01, router N 100.64.N.2 class N<<4|2, the wan side of
 * router N's link 100.64.N.1 class N<<4|1), so each destination address gets its own port, and nothing about
 * the destination port enters.
 *
 * Why not one port range per destination (`masquerade to :20000-29999` toward the node, another range toward
 * the rest): the kernel keeps the LAN port only when it lies inside the range, and otherwise draws a random
 * port per new flow (nf_nat_l4proto_unique_tuple), so two ports of one address would get two public ports:
 * symmetric again. A single-port range computed from the LAN port is deterministic. Its price: when that one
 * port is already taken toward the same remote address and port (two LAN hosts behind router 1 whose sockets
 * happen to use the same port, talking to one remote socket), the kernel has no other port to try and drops
 * the packet, where plain masquerade would move to another port. Ephemeral LAN ports (32768-60999) keep bit
 * 15 under the XOR, so public ports stay in 32768-65535.
 */
const ADDRESS_CLASS_MASK = "0.0.15.15";
const CLASS_SHIFT = 6;
const CLASSES = 256;

/** The postrouting chain (and for "address-dependent" its per-class chains) for the router's `pvrnat` table. */
export function sourceNatChains(mapping: MappingBehaviour): string {
  const head = "type nat hook postrouting priority srcnat; policy accept;";
  if (mapping !== "address-dependent") {
    const masq = mapping === "random" ? "masquerade fully-random" : "masquerade";
    return `  chain postrouting { ${head} oifname "wan0" ${masq}; }\n`;
  }
  const chains: string[] = [];
  const elements: string[] = [];
  for (let c = 0; c < CLASSES; c++) {
    chains.push(`  chain adm_${c} { meta l4proto udp masquerade to :udp sport ^ ${c << CLASS_SHIFT}; }`);
    elements.push(`0.0.${c >> 4}.${c & 15} : goto adm_${c}`);
  }
  return `${chains.join("\n")}
  chain postrouting {
    ${head}
    oifname "wan0" meta l4proto udp ip daddr & ${ADDRESS_CLASS_MASK} vmap { ${elements.join(", ")} }
    oifname "wan0" masquerade
  }
`;
}
