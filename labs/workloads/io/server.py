"""The lab's HTTP server: ``python -m labs.workloads.io.server [--port 0] [--latency-ms 50] [--payload N]``.

asyncio streams and h11 (a well-kept HTTP/1.1 state machine) on 127.0.0.1, keep-alive, any number of
concurrent connections. It runs in its own process, started by ``labs.workloads.io.local_server`` on a host
interpreter, never inside the interpreter under test. Once listening it prints ``READY <port>``.

GET /page/<n>   after the configured latency, the page's payload: deterministic bytes (page_bytes)
GET /stats      {"served": pages served so far}
With --truncate, every page response announces its full length and sends half of it (a fault).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import hashlib
import json
import os
import signal
import sys

import h11

MAX_LATENCY_MS = 10_000
MAX_PAYLOAD = 16 << 20


def page_bytes(page: int, size: int) -> bytes:
    """The payload of page *page*: the same bytes on the server and in every reference check."""
    block = hashlib.sha256(page.to_bytes(8, "little")).digest()
    return (block * (size // len(block) + 1))[:size]


class Server:
    def __init__(self, latency_ms: int, payload: int, truncate: bool) -> None:
        self.latency = latency_ms / 1000
        self.payload = payload
        self.truncate = truncate
        self.served = 0
        self._pages: dict[int, bytes] = {}

    def page(self, number: int) -> bytes:
        if number not in self._pages:
            if len(self._pages) > 4096:
                self._pages.clear()
            self._pages[number] = page_bytes(number, self.payload)
        return self._pages[number]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    connection.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    await self.respond(connection, writer, event.target.decode())
                    if self.truncate:
                        return
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
                        connection.start_next_cycle()
                        continue
                    return
        except (h11.RemoteProtocolError, ConnectionError):
            return
        finally:
            writer.close()

    async def respond(self, connection: h11.Connection, writer: asyncio.StreamWriter, target: str) -> None:
        if target == "/stats":
            body = json.dumps({"served": self.served}).encode()
        elif target.startswith("/page/") and target[6:].isdigit():
            await asyncio.sleep(self.latency)
            body = self.page(int(target[6:]))
            self.served += 1
        else:
            body = b"not found"
            headers = [("Content-Length", str(len(body)))]
            writer.write(connection.send(h11.Response(status_code=404, headers=headers)))
            writer.write(connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage()))
            await writer.drain()
            return
        headers = [("Content-Length", str(len(body))), ("Content-Type", "application/octet-stream")]
        writer.write(connection.send(h11.Response(status_code=200, headers=headers)))
        if self.truncate and target != "/stats":
            writer.write(body[: len(body) // 2])  # announce everything, send half, hang up
            await writer.drain()
            return
        writer.write(connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage()))
        await writer.drain()


async def serve(port: int, latency_ms: int, payload: int, truncate: bool) -> None:
    server = Server(latency_ms, payload, truncate)
    try:
        listener = await asyncio.start_server(
            server.handle, "127.0.0.1", port, backlog=4096, reuse_address=False
        )
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"ERROR: cannot listen on 127.0.0.1:{port}: {reason}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    print(f"READY {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await listener.serve_forever()


def _die_with_parent() -> None:
    """On Linux, ask the kernel to end this server when the process that started it ends, however
    it ends (SIGKILL included), so no server outlives its bench."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was already gone before the request took effect
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labs.workloads.io.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--payload", type=int, default=16 << 10)
    parser.add_argument("--truncate", action="store_true")
    args = parser.parse_args(argv)
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        print(
            f"ERROR: latency {args.latency_ms} ms is out of range: 0 .. {MAX_LATENCY_MS} ms", file=sys.stderr
        )
        return 2
    if not 1 <= args.payload <= MAX_PAYLOAD:
        print(f"ERROR: payload {args.payload} bytes is out of range: 1 .. {MAX_PAYLOAD}", file=sys.stderr)
        return 2
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        asyncio.run(serve(args.port, args.latency_ms, args.payload, args.truncate))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
