#!/usr/bin/env python3
"""A user-space TCP relay that delays every chunk by DELAY_MS in each direction and counts connections.

Usage: delay_relay.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS COUNT_FILE [udp]

With `udp`, datagrams to LISTEN_PORT/udp are relayed the same way (one upstream socket per client
address, so answers find their way back), and COUNT_FILE.sip counts the SIP requests seen from clients
over UDP and over TCP (request lines at the start of a datagram or of a line in the stream).

netem is not available in the benchmark kernel, so the round trip is emulated here: each chunk read
from one side is written to the other DELAY_MS later, preserving order, FIN and (as a close) reset.
The TCP handshake itself is not delayed (user space cannot hold back a SYN-ACK), which favours every
tool equally. The connection count is rewritten to COUNT_FILE after each new connection.
"""
import asyncio
import re
import sys
import time

listen_port, host, port, delay_ms, count_file = sys.argv[1:6]
UDP = sys.argv[6:7] == ["udp"]
DELAY = float(delay_ms) / 1000.0
count = 0
sip_requests = 0
REQUEST_LINE = re.compile(rb"(?m)^[A-Z]+ (sips?|tel):\S* SIP/2\.0\r$")


def count_sip(data):
    global sip_requests
    if not UDP:
        return
    n = len(REQUEST_LINE.findall(data))
    if n:
        sip_requests += n
        with open(count_file + ".sip", "w") as f:
            f.write(str(sip_requests))


async def pump(reader, writer, from_client=False):
    q = asyncio.Queue()

    async def read_side():
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if from_client:
                count_sip(data)
            await q.put((time.monotonic() + DELAY, data))
            if not data:
                return

    async def write_side():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if not data:
                    writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError, RuntimeError):
                return

    await asyncio.gather(read_side(), write_side())


async def handle(creader, cwriter):
    global count
    count += 1
    with open(count_file, "w") as f:
        f.write(str(count))
    try:
        sreader, swriter = await asyncio.open_connection(host, int(port))
    except OSError:
        cwriter.close()
        return
    try:
        await asyncio.wait_for(
            asyncio.gather(pump(creader, swriter, True), pump(sreader, cwriter)), timeout=120
        )
    except Exception:
        pass
    for w in (swriter, cwriter):
        try:
            w.close()
        except Exception:
            pass


class Upstream(asyncio.DatagramProtocol):
    """One client's socket towards the target: what comes back goes to that client, DELAY later."""

    def __init__(self, front, client):
        self.front, self.client = front, client

    def datagram_received(self, data, _addr):
        asyncio.get_running_loop().call_later(DELAY, self.front.sendto, data, self.client)


class Front(asyncio.DatagramProtocol):
    def __init__(self):
        self.upstreams = {}

    def connection_made(self, transport):
        self.transport = transport

    def sendto(self, data, addr):
        self.transport.sendto(data, addr)

    def datagram_received(self, data, addr):
        count_sip(data)
        asyncio.get_running_loop().call_later(DELAY, self.forward, data, addr)

    def forward(self, data, addr):
        up = self.upstreams.get(addr)
        if isinstance(up, list):  # the upstream socket is still being made
            up.append(data)
        elif up is not None:
            up.sendto(data)
        else:
            self.upstreams[addr] = [data]
            asyncio.ensure_future(self.open(addr))

    async def open(self, addr):
        up, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: Upstream(self, addr), remote_addr=(host, int(port)))
        for data in self.upstreams[addr]:
            up.sendto(data)
        self.upstreams[addr] = up


async def main():
    if UDP:
        await asyncio.get_running_loop().create_datagram_endpoint(
            Front, local_addr=("127.0.0.1", int(listen_port)))
    server = await asyncio.start_server(handle, "127.0.0.1", int(listen_port), backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
