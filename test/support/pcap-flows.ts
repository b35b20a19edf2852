/** @module Reads a classic pcap file of IPv4 traffic (tcpdump -w) into per-flow payload streams, so a capture can be searched across segment boundaries. */

// libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte global header, then per
// packet a 16-byte record header (ts_sec, ts_usec, incl_len, orig_len) and incl_len captured bytes.
const PCAP_MAGIC_LE = 0xa1b2c3d4; // microsecond timestamps, read little-endian
const PCAP_MAGIC_NS_LE = 0xa1b23c4d; // nanosecond timestamps
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const LINKTYPE_ETHERNET = 1; // Linux "lo" captures as Ethernet with zero MAC addresses
const LINKTYPE_LINUX_SLL = 113; // "any" device
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6; // RFC 791 protocol numbers
const IPPROTO_UDP = 17;

export interface PcapFlow {
  protocol: "tcp" | "udp";
  /** "src:port>dst:port" */
  id: string;
  srcPort: number;
  dstPort: number;
  /** TCP: the payloads in capture order (loopback neither reorders nor loses); UDP: the datagrams concatenated. */
  payload: Buffer;
  packets: number;
}

/** Every IPv4 TCP/UDP flow of a capture with its payload bytes; other packets are skipped. */
export function readPcapFlows(file: Uint8Array): PcapFlow[] {
  if (file.byteLength < GLOBAL_HEADER_BYTES)
    throw new RangeError(`Cannot read a pcap: ${file.byteLength} bytes is shorter than its header`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== PCAP_MAGIC_LE && magic !== PCAP_MAGIC_NS_LE)
    throw new SyntaxError(`Cannot read a pcap: magic 0x${magic.toString(16)} is not little-endian pcap`);
  const linkType = view.getUint32(20, true);
  const linkBytes = linkType === LINKTYPE_ETHERNET ? 14 : linkType === LINKTYPE_LINUX_SLL ? 16 : -1;
  if (linkBytes < 0) throw new TypeError(`Cannot read a pcap: link type ${linkType} is not Ethernet or SLL`);
  const flows = new Map<string, { flow: PcapFlow; parts: Uint8Array[] }>();
  let at = GLOBAL_HEADER_BYTES;
  while (at < file.byteLength) {
    if (at + RECORD_HEADER_BYTES > file.byteLength)
      throw new RangeError(`Cannot read a pcap: record header cut at ${at}`);
    const incl = view.getUint32(at + 8, true);
    const start = at + RECORD_HEADER_BYTES;
    if (start + incl > file.byteLength) throw new RangeError(`Cannot read a pcap: packet cut at ${start}`);
    const packet = file.subarray(start, start + incl);
    at = start + incl;
    const ip = ipv4Payload(packet, linkBytes);
    if (ip === undefined) continue;
    const key = `${ip.protocol === IPPROTO_TCP ? "tcp" : "udp"} ${ip.src}:${ip.srcPort}>${ip.dst}:${ip.dstPort}`;
    let f = flows.get(key);
    if (!f) {
      f = {
        flow: {
          protocol: ip.protocol === IPPROTO_TCP ? "tcp" : "udp",
          id: key,
          srcPort: ip.srcPort,
          dstPort: ip.dstPort,
          payload: Buffer.alloc(0),
          packets: 0,
        },
        parts: [],
      };
      flows.set(key, f);
    }
    f.flow.packets++;
    if (ip.payload.byteLength > 0) f.parts.push(ip.payload);
  }
  return [...flows.values()].map(({ flow, parts }) => ({ ...flow, payload: Buffer.concat(parts) }));
}

function ipv4Payload(packet: Uint8Array, linkBytes: number) {
  if (packet.byteLength < linkBytes + 20) return undefined;
  const etherType = (packet[linkBytes - 2]! << 8) | packet[linkBytes - 1]!;
  if (etherType !== ETHERTYPE_IPV4) return undefined;
  const ip = packet.subarray(linkBytes);
  const ihl = (ip[0]! & 0x0f) * 4;
  const total = (ip[2]! << 8) | ip[3]!;
  const protocol = ip[9]!;
  if (ip[0]! >> 4 !== 4 || ihl < 20 || total > ip.byteLength || total < ihl) return undefined;
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return undefined;
  const l4 = ip.subarray(ihl, total);
  const headerBytes = protocol === IPPROTO_TCP ? (l4[12]! >> 4) * 4 : 8;
  if (l4.byteLength < headerBytes || headerBytes < 8) return undefined;
  return {
    protocol,
    src: ip.subarray(12, 16).join("."),
    dst: ip.subarray(16, 20).join("."),
    srcPort: (l4[0]! << 8) | l4[1]!,
    dstPort: (l4[2]! << 8) | l4[3]!,
    payload: l4.subarray(headerBytes),
  };
}
