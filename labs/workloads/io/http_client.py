"""HTTP clients the I/O workloads share: a blocking one (http.client, stdlib only, so it loads in every
subinterpreter) and an asyncio one (h11 over asyncio streams). Both reuse connections the way a user
would: one kept-alive connection per thread (per process, per interpreter), a small pool per event loop.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
import weakref
import zlib
from urllib.parse import urlsplit

import h11

from labs.workloads.io.connections import per_thread
from labs.workloads.io.local_server import client_timeout

_local = threading.local()


class TruncatedResponse(Exception):
    pass


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def get(url: str, path: str) -> tuple[bytes, float]:
    """(body, seconds) of GET *path*, on this thread's kept-alive connection."""
    connections = per_thread(_local)
    connection = connections.get(url)
    if connection is None:
        connection = connections[url] = http.client.HTTPConnection(*_address(url), timeout=client_timeout())
    start = time.perf_counter()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    except http.client.IncompleteRead as exc:
        connections.pop(url).close()
        raise TruncatedResponse(f"GET {path}: response truncated after {len(exc.partial)} bytes") from None
    except BaseException:
        connections.pop(url).close()
        raise
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return body, time.perf_counter() - start


class _Pool(list):
    """Idle connections of one event loop, closed when the loop goes away."""

    def __del__(self) -> None:
        for _, writer in self:
            try:
                writer.transport.abort()
            except Exception:  # the loop may be closed already; the socket goes with it
                pass


# Connections belong to the event loop that opened them.
_pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def get_async(url: str, path: str) -> tuple[bytes, float]:
    """(body, seconds) of GET *path* through asyncio streams and h11, on a pooled connection."""
    pool = _pools.setdefault(asyncio.get_running_loop(), _Pool())
    start = time.perf_counter()
    if pool:
        reader, writer = pool.pop()
    else:
        reader, writer = await asyncio.open_connection(*_address(url))
    try:
        body = await asyncio.wait_for(_exchange(reader, writer, url, path), client_timeout())
    except BaseException:
        writer.close()
        raise
    pool.append((reader, writer))
    return body, time.perf_counter() - start


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str, path: str) -> bytes:
    connection = h11.Connection(h11.CLIENT)
    host, port = _address(url)
    request = h11.Request(method="GET", target=path, headers=[("Host", f"{host}:{port}")])
    writer.write(connection.send(request) + connection.send(h11.EndOfMessage()))
    await writer.drain()
    chunks, status = [], 0
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as exc:  # e.g. the peer hung up inside the body
            raise TruncatedResponse(f"GET {path}: {exc} after {sum(map(len, chunks))} bytes") from None
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            raise TruncatedResponse(f"GET {path}: connection closed after {sum(map(len, chunks))} bytes")
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}")
    return b"".join(chunks)


def digest(body: bytes) -> tuple[int, int]:
    return len(body), zlib.crc32(body)
