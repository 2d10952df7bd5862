#!/usr/bin/env python3
"""A TCP proxy that counts the bytes clients send: count_proxy.py TARGET_PORT DIR LISTEN_PORT...
forwards every LISTEN_PORT on 127.0.0.1 to TARGET_PORT and keeps DIR/LISTEN_PORT holding
the client-to-server bytes seen on it so far. Bounded: exits after an hour."""
import asyncio
import os
import sys

target = int(sys.argv[1])
out = sys.argv[2]
counts = {}


async def pump(reader, writer, port):
    try:
        while data := await reader.read(1 << 16):
            if port:
                counts[port] += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
        if port:
            tmp = os.path.join(out, f".{port}")
            with open(tmp, "w") as f:
                f.write(str(counts[port]))
            os.replace(tmp, os.path.join(out, str(port)))


def handler(port):
    async def handle(client_r, client_w):
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pump(client_r, server_w, port), pump(server_r, client_w, None))
    return handle


async def main():
    for p in sys.argv[3:]:
        counts[int(p)] = 0
        with open(os.path.join(out, p), "w") as f:
            f.write("0")
        await asyncio.start_server(handler(int(p)), "127.0.0.1", int(p))
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
