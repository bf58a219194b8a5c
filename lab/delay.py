#!/usr/bin/python3
"""A TCP proxy that adds latency and maps ports, as a LoadBalancer does.

Usage: delay.py --ms MS [--max-conns N] LISTEN=TARGET [LISTEN=TARGET ...]
       (LISTEN and TARGET are IP:PORT, e.g. 127.22.0.1:7432=127.20.0.1:5432)

Every byte is held MS milliseconds in each direction (a round trip costs
2*MS), order preserved, no bandwidth limit. The TCP handshake is modelled
too: the client's connect returns at once (the kernel accepts), so the
first bytes towards the server leave no earlier than 2*MS after the
accept, as they would after a SYN/SYN-ACK round trip. The server sees the
proxy's address, as behind kube-proxy with SNAT.

Bounded: at most --max-conns connections at once (more are closed at
once), upstream connect timeout 5 s, idle connections closed after 600 s.
Runs with Debian's python3 alone (asyncio); stops on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import signal
import sys

CONNECT_TIMEOUT = 5.0
IDLE_TIMEOUT = 600.0
CHUNK = 65536


def addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def pump(reader, writer, delay, not_before, idle):
    """Copy reader to writer, each chunk released `delay` after it arrived
    (and no earlier than `not_before` + delay)."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                data = await asyncio.wait_for(reader.read(CHUNK), idle)
                arrived = max(loop.time(), not_before)
                await queue.put((arrived + delay, data))
                if not data:
                    return
        except (OSError, asyncio.TimeoutError):
            await queue.put((loop.time(), b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            return

    reading = asyncio.ensure_future(read())
    try:
        await write()
    finally:
        reading.cancel()


class Proxy:
    def __init__(self, target, delay, limit):
        self.target = target
        self.delay = delay
        self.limit = limit
        self.open = 0

    async def handle(self, client_r, client_w):
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        if self.open >= self.limit:
            client_w.close()
            return
        self.open += 1
        server_w = None
        try:
            server_r, server_w = await asyncio.wait_for(
                asyncio.open_connection(*self.target), CONNECT_TIMEOUT
            )
            handshake_done = accepted + 2 * self.delay
            await asyncio.gather(
                pump(client_r, server_w, self.delay, handshake_done, IDLE_TIMEOUT),
                pump(server_r, client_w, self.delay, handshake_done, IDLE_TIMEOUT),
            )
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            self.open -= 1
            for w in (client_w, server_w):
                if w is not None:
                    w.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ms", type=float, default=20.0)
    parser.add_argument("--max-conns", type=int, default=512)
    parser.add_argument("maps", nargs="+", metavar="LISTEN=TARGET")
    args = parser.parse_args()
    delay = max(0.0, args.ms) / 1000.0
    servers = []
    for spec in args.maps:
        listen, _, target = spec.partition("=")
        proxy = Proxy(addr(target), delay, args.max_conns)
        host, port = addr(listen)
        servers.append(await asyncio.start_server(proxy.handle, host, port, reuse_address=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"delay: {args.ms:g} ms each way on {len(servers)} port(s)", file=sys.stderr, flush=True)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
