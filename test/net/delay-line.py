"""@module A userspace wan-link impairment: delays and drops IPv4 packets routed through a TUN device.

The kernel here has no sch_netem, so the net bed routes one home's wan traffic into a TUN device; this
program reads each packet, drops it with the configured probability, and writes it back into the same
device after the configured delay. A written-back packet re-enters the stack as received on the TUN
device, and the wan namespace's policy rules (see impairment.ts) route it on normally.

Usage: delay-line.py --dev NAME --down-net A.B.C.D/N --down DELAY_MS:LOSS_PCT --up DELAY_MS:LOSS_PCT [--seed N]
"down" is a packet whose destination lies in --down-net (toward the home), "up" is everything else.
Prints "ready DEV" once the device exists; on SIGTERM/SIGINT prints one "stats {json}" line and exits 0.
"""

import argparse
import collections
import fcntl
import ipaddress
import json
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA  # linux/if_tun.h _IOW('T', 202, int)
IFF_TUN = 0x0001  # linux/if_tun.h: layer-3 device, packets start with the IP header
IFF_NO_PI = 0x1000  # linux/if_tun.h: no 4-byte packet-information prefix
IPV4_MIN_HEADER = 20  # RFC 791 3.1: IHL is at least 5 words
IPV4_DST_OFFSET = 16  # RFC 791 3.1: destination address occupies bytes 16..19
MAX_PACKET = 65535  # RFC 791 3.1: total length is a 16-bit field


def parse_spec(text):
    """Parses "DELAY_MS:LOSS_PCT" into (seconds, probability); raises ValueError on anything else."""
    parts = text.split(":")
    if len(parts) != 2:
        raise ValueError(f"impairment {text!r} is not DELAY_MS:LOSS_PCT")
    try:
        delay_ms, loss_pct = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"impairment {text!r} is not DELAY_MS:LOSS_PCT (numbers)") from None
    if not (0 <= delay_ms <= 10_000) or not (0 <= loss_pct <= 100):
        raise ValueError(f"impairment {text!r} is out of range (delay 0..10000 ms, loss 0..100 %)")
    return delay_ms / 1000.0, loss_pct / 100.0


def direction_of(packet, down_net):
    """Returns "down" for an IPv4 packet addressed into down_net, "up" for any other IPv4 packet, None for
    bytes that are not an IPv4 packet (those are passed through undelayed: the kernel never hands us any,
    but a corrupt packet must not stop the line)."""
    if len(packet) < IPV4_MIN_HEADER or packet[0] >> 4 != 4:
        return None
    dst = ipaddress.IPv4Address(packet[IPV4_DST_OFFSET : IPV4_DST_OFFSET + 4])
    return "down" if dst in down_net else "up"


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--down-net", required=True)
    ap.add_argument("--down", default="0:0")
    ap.add_argument("--up", default="0:0")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    down_net = ipaddress.IPv4Network(args.down_net, strict=False)
    specs = {"down": parse_spec(args.down), "up": parse_spec(args.up)}
    rng = random.Random(args.seed)
    stats = {d: {"in": 0, "dropped": 0, "out": 0} for d in ("down", "up")}
    stats["other"] = 0
    # A constant delay per direction keeps each direction FIFO, so two deques replace a priority queue.
    queues = {"down": collections.deque(), "up": collections.deque()}
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))

    fd = open_tun(args.dev)
    print(f"ready {args.dev}", flush=True)
    while not stopping:
        now = time.monotonic()
        for d, q in queues.items():
            while q and q[0][0] <= now:
                _, pkt = q.popleft()
                try:
                    os.write(fd, pkt)
                    stats[d]["out"] += 1
                except OSError:
                    stats[d]["dropped"] += 1  # the stack refused it (e.g. the route went away): a loss
        due = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, min(due) - now) if due else 0.5
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except InterruptedError:
            continue
        if not ready:
            continue
        while True:
            try:
                pkt = os.read(fd, MAX_PACKET)
            except BlockingIOError:
                break
            d = direction_of(pkt, down_net)
            if d is None:
                stats["other"] += 1
                os.write(fd, pkt)
                continue
            stats[d]["in"] += 1
            delay, loss = specs[d]
            if rng.random() < loss:
                stats[d]["dropped"] += 1
                continue
            queues[d].append((time.monotonic() + delay, pkt))
    print("stats " + json.dumps(stats), flush=True)
    os.close(fd)


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:
        print(f"delay-line: {e}", file=sys.stderr)
        sys.exit(2)
