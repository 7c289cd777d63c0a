#!/usr/bin/env python3
"""A link with latency and a bandwidth cap, for benchmarks: forwards TCP from 127.0.0.1:PORT to
UPSTREAM (host:port), every chunk arriving half a round trip after it was sent, in each
direction, without holding up the chunks behind it; downstream at most MBPS Mbit/s.
Usage: delay-proxy.py PORT UPSTREAM RTT_MS MBPS   (MBPS 0: no cap). Prints "listening" when ready."""
import asyncio, sys, time

port, upstream, rtt_ms, mbps = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
host, upstream_port = upstream.rsplit(":", 1)
one_way = rtt_ms / 2000.0
rate = mbps * 1e6 / 8 if mbps > 0 else 0

async def pump(reader, writer, capped):
    """Reads as fast as it comes; a second task writes each chunk when it is due."""
    queue = asyncio.Queue()
    async def deliver():
        sent, start = 0, None
        while True:
            due, chunk = await queue.get()
            if chunk is None:
                break
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            if capped and rate:
                start = start or time.monotonic()
                sent += len(chunk)
                wait = start + sent / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        writer.close()
    task = asyncio.ensure_future(deliver())
    try:
        while True:
            chunk = await reader.read(1 << 16)
            if not chunk:
                break
            await queue.put((time.monotonic() + one_way, chunk))
            # Bounded memory: a slow link holds the sender back (as TCP's window would).
            while queue.qsize() > 256:
                await asyncio.sleep(0.001)
    except ConnectionError:
        pass
    await queue.put((0, None))
    try:
        await task
    except ConnectionError:
        pass

async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(host, int(upstream_port))
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, server_writer, False), pump(server_reader, client_writer, True))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 20)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
