#!/usr/bin/env python3
"""A user-space TCP relay that delays every chunk by DELAY_MS in each direction and counts connections.

Usage: delay_relay.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS COUNT_FILE

netem is not available in the benchmark kernel, so the round trip is emulated here: each chunk read
from one side is written to the other DELAY_MS later, preserving order, FIN and (as a close) reset.
The TCP handshake itself is not delayed (user space cannot hold back a SYN-ACK), which favours every
tool equally. The connection count is rewritten to COUNT_FILE after each new connection.
"""
import asyncio
import sys
import time

listen_port, host, port, delay_ms, count_file = sys.argv[1:6]
DELAY = float(delay_ms) / 1000.0
count = 0


async def pump(reader, writer):
    q = asyncio.Queue()

    async def read_side():
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
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
            asyncio.gather(pump(creader, swriter), pump(sreader, cwriter)), timeout=120
        )
    except Exception:
        pass
    for w in (swriter, cwriter):
        try:
            w.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(listen_port), backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
