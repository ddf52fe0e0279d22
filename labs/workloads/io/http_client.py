"""HTTP clients the I/O workloads share: a blocking one (http.client, stdlib only, so it loads in every
subinterpreter) and an asyncio one (h11 over asyncio streams). Both reuse connections the way a user
would: one kept-alive connection per thread (per process, per interpreter), a small pool per event loop.
A kept-alive connection the server closed while it sat idle is replaced once, as a browser would; any
other failure is a RequestFailed whose one-line message names the request and the cause.
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


class RequestFailed(Exception):
    """A request to the lab's server got no good answer; the message says which request and why, in
    one line, so the lab can report it as such (``download.environment`` turns it into a RunError)."""


class TruncatedResponse(RequestFailed):
    pass


class ServerClosed(RequestFailed):
    """The server closed the connection before answering: on a kept-alive connection, most likely
    because it sat idle past the server's idle timeout."""


# Failures that on a reused connection mean "closed while idle"; a GET is safe to send again once.
_STALE = (ServerClosed, ConnectionResetError, BrokenPipeError)  # RemoteDisconnected is a ConnectionResetError


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _failure(path: str, exc: Exception, timeout: float) -> Exception:
    """*exc* as a RequestFailed naming the request, or *exc* itself when it is not about the request."""
    if isinstance(exc, RequestFailed):
        return exc
    if isinstance(exc, http.client.IncompleteRead):
        return TruncatedResponse(f"GET {path}: response truncated after {len(exc.partial)} bytes")
    if isinstance(exc, TimeoutError):
        return RequestFailed(f"GET {path}: TimeoutError: no answer within {timeout:g} s")
    if isinstance(exc, (OSError, http.client.HTTPException, h11.ProtocolError)):
        return RequestFailed(f"GET {path}: {type(exc).__name__}: {exc or 'no detail'}")
    return exc


def get(url: str, path: str) -> tuple[bytes, float]:
    """(body, seconds) of GET *path*, on this thread's kept-alive connection."""
    connections = per_thread(_local)
    timeout = client_timeout()
    start = time.perf_counter()
    for attempt in (1, 2):
        reused = url in connections
        if not reused:
            connections[url] = http.client.HTTPConnection(*_address(url), timeout=timeout)
        connection = connections[url]
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            break
        except BaseException as exc:
            connections.pop(url).close()
            if attempt == 1 and reused and isinstance(exc, _STALE):
                continue  # the server closed the idle connection: ask again on a new one
            if isinstance(exc, Exception):
                raise _failure(path, exc, timeout) from None
            raise
    if response.status != 200:
        raise RequestFailed(f"GET {path}: HTTP {response.status}")
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
    timeout = client_timeout()
    start = time.perf_counter()
    for attempt in (1, 2):
        reused = bool(pool)
        try:
            async with asyncio.timeout(timeout):
                reader, writer = pool.pop() if reused else await asyncio.open_connection(*_address(url))
        except Exception as exc:
            raise _failure(path, exc, timeout) from None
        try:
            async with asyncio.timeout(timeout):
                body, reusable = await _exchange(reader, writer, url, path)
        except BaseException as exc:
            writer.close()
            if attempt == 1 and reused and isinstance(exc, _STALE):
                continue  # the server closed the idle connection: ask again on a new one
            if isinstance(exc, Exception):
                raise _failure(path, exc, timeout) from None
            raise
        if reusable:
            pool.append((reader, writer))
        else:
            writer.close()
        return body, time.perf_counter() - start
    raise AssertionError("unreachable: the second attempt returns or raises")


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str, path: str
) -> tuple[bytes, bool]:
    """(body, whether the connection may carry another request) of one GET."""
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
            if not status:
                raise ServerClosed(f"GET {path}: {exc} before any answer") from None
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
            if not status:
                raise ServerClosed(f"GET {path}: connection closed before any answer")
            raise TruncatedResponse(f"GET {path}: connection closed after {sum(map(len, chunks))} bytes")
    if status != 200:
        raise RequestFailed(f"GET {path}: HTTP {status}")
    # A connection the server is closing (it said Connection: close) must not go back to the pool.
    reusable = connection.our_state is h11.DONE and connection.their_state is h11.DONE
    return b"".join(chunks), reusable


def digest(body: bytes) -> tuple[int, int]:
    return len(body), zlib.crc32(body)
