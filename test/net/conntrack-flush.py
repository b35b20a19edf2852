"""@module Flushes the IPv4 conntrack table of the current network namespace over ctnetlink.

The `conntrack` tool (Debian package conntrack) is not installed by CI, and nft cannot flush conntrack
entries, so this speaks the netlink message `conntrack -F` sends: IPCTNL_MSG_CT_DELETE with no tuple
attributes, which the kernel treats as "delete every entry of this family" (ctnetlink_del_conntrack).
A router that loses its whole table like this models a reboot: every NAT mapping is gone.
Exits 0 on the kernel's ACK, 1 with the errno otherwise.
"""

import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12  # linux/netlink.h
NFNL_SUBSYS_CTNETLINK = 1  # linux/netfilter/nfnetlink.h
IPCTNL_MSG_CT_DELETE = 2  # linux/netfilter/nfnetlink_conntrack.h
NLM_F_REQUEST = 0x1  # linux/netlink.h
NLM_F_ACK = 0x4  # linux/netlink.h
NLMSG_ERROR = 0x2  # linux/netlink.h
NFNETLINK_V0 = 0  # linux/netfilter/nfnetlink.h
AF_INET = 2


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    # struct nfgenmsg { u8 nfgen_family; u8 version; be16 res_id; }
    payload = struct.pack("!BBH", AF_INET, NFNETLINK_V0, 0)
    msg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE
    # struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; } in host order
    header = struct.pack("=IHHII", 16 + len(payload), msg_type, NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    sock.send(header + payload)
    reply = sock.recv(4096)
    if len(reply) < 20:
        print(f"conntrack-flush: short netlink reply of {len(reply)} bytes", file=sys.stderr)
        return 1
    _, rtype, _, _, _ = struct.unpack("=IHHII", reply[:16])
    (err,) = struct.unpack("=i", reply[16:20])
    if rtype != NLMSG_ERROR or err != 0:
        print(f"conntrack-flush: kernel refused: {os.strerror(-err) if err < 0 else rtype}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
