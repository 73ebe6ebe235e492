#!/usr/bin/env python3
"""A packet-level delay line between two network namespaces, for the benchmarks.

Usage: delay_line.py NS_A NS_B DELAY_MS COUNT_FILE

Opens the TUN device `tun0` inside each namespace (made by bench/netns.sh) and moves every IP packet
from one to the other DELAY_MS later, in both directions: SYN, SYN-ACK, FIN and RST included, so a
TCP handshake costs a real round trip (unlike bench/delay_relay.py, which relays streams and cannot
hold back a SYN-ACK). netem does not exist in the benchmark kernel; this is its user-space stand-in.

COUNT_FILE is rewritten with cumulative counts as JSON whenever one changes: `connections` (TCP
SYNs from NS_A), `sip_requests` (SIP request lines from NS_A over UDP and TCP, retransmissions
included), `packets`, and how long TCP connections from NS_A were open: `connection_seconds` (the
sum over connections, SYN to the first FIN or RST), the same two per server port (`by_port`), and
`open_seconds` (for each number of connections open at once, the time that many were). Stops on SIGTERM/SIGINT.
"""
import ctypes
import fcntl
import json
import os
import re
import select
import signal
import struct
import sys
import time
from collections import deque

ns_a, ns_b, delay_ms, count_file = sys.argv[1:5]
DELAY = float(delay_ms) / 1000.0
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
REQUEST_LINE = re.compile(rb"(?m)^[A-Z]+ (sips?|tel):\S* SIP/2\.0\r$")

libc = ctypes.CDLL(None, use_errno=True)


def enter(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


def open_tun(ns):
    """The fd of `tun0` in network namespace `ns` (the device stays in that namespace)."""
    enter(f"/run/netns/{ns}")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI))
    return fd


home = os.open("/proc/self/ns/net", os.O_RDONLY)
fd_a = open_tun(ns_a)
fd_b = open_tun(ns_b)
if libc.setns(home, CLONE_NEWNET) != 0:
    raise OSError(ctypes.get_errno(), "setns back")

counts = {"connections": 0, "sip_requests": 0, "packets": 0, "connection_seconds": 0.0, "open_seconds": {},
          "by_port": {}}
opened = {}  # (client port, server port) -> SYN time
last_change = time.monotonic()


def open_count_changes(key, opening):
    """Accounts the time spent at the current number of open connections, then opens or closes one."""
    global last_change
    now = time.monotonic()
    k = str(len(opened))
    counts["open_seconds"][k] = round(counts["open_seconds"].get(k, 0.0) + now - last_change, 4)
    last_change = now
    port = counts["by_port"].setdefault(str(key[1]), {"connections": 0, "connection_seconds": 0.0})
    if opening:
        opened[key] = now
        port["connections"] += 1
    else:
        took = now - opened.pop(key)
        counts["connection_seconds"] = round(counts["connection_seconds"] + took, 4)
        port["connection_seconds"] = round(port["connection_seconds"] + took, 4)


def save():
    tmp = count_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(counts, f)
    os.replace(tmp, count_file)


def count(pkt, from_a):
    """Counts SYNs, connection lifetimes and SIP request lines in an IPv4 packet."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return
    ihl = (pkt[0] & 15) * 4
    proto = pkt[9]
    changed = False
    if proto == 6 and len(pkt) >= ihl + 20:
        flags = pkt[ihl + 13]
        sport, dport = struct.unpack(">HH", pkt[ihl:ihl + 4])
        key = (sport, dport) if from_a else (dport, sport)
        if from_a and flags & 0x02 and not flags & 0x10:
            counts["connections"] += 1
            open_count_changes(key, True)
            changed = True
        elif flags & 0x05 and key in opened:  # FIN or RST, either side
            open_count_changes(key, False)
            changed = True
        if not from_a:
            if changed:
                save()
            return
        payload = pkt[ihl + ((pkt[ihl + 12] >> 4) * 4):]
    elif proto == 17:
        payload = pkt[ihl + 8:]
    else:
        return
    n = len(REQUEST_LINE.findall(payload)) if payload else 0
    if n:
        counts["sip_requests"] += n
        changed = True
    if changed:
        save()


running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
save()
# One FIFO per direction: every packet waits the same DELAY, so order is kept.
queues = {fd_a: deque(), fd_b: deque()}  # keyed by the fd the packets are written to
peer = {fd_a: fd_b, fd_b: fd_a}
while running:
    now = time.monotonic()
    for out, q in queues.items():
        while q and q[0][0] <= now:
            _, pkt = q.popleft()
            try:
                os.write(out, pkt)
            except OSError:
                pass  # a full or downed device drops the packet, as a real link would
    due = [q[0][0] for q in queues.values() if q]
    wait = max(0.0, min(due) - time.monotonic()) if due else 0.5
    try:
        ready, _, _ = select.select([fd_a, fd_b], [], [], wait)
    except InterruptedError:
        continue
    for fd in ready:
        while True:
            try:
                pkt = os.read(fd, 65535)
            except BlockingIOError:
                break
            counts["packets"] += 1
            count(pkt, fd == fd_a)
            queues[peer[fd]].append((time.monotonic() + DELAY, pkt))
