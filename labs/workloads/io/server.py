"""The lab's HTTP server: ``python -m labs.workloads.io.server [--port 0] [--latency-ms 50] [--payload N]``
``[--header-timeout 10] [--idle-timeout 60] [--truncate]``.

asyncio streams and h11 (a well-kept HTTP/1.1 state machine) on 127.0.0.1, keep-alive, any number of
concurrent connections. It runs in its own process, started by ``labs.workloads.io.local_server`` on a host
interpreter, never inside the interpreter under test. Once listening it prints ``READY <port>``.

GET /page/<n>   after the configured latency, the page's payload: deterministic bytes (page_bytes), n < 2**64
GET /stats      {"served": pages served, "rejected": requests answered with an error status,
                 "cached_bytes": page bytes the cache holds now}
With --truncate, every page response announces its full length and sends half of it (a fault).

Every request gets an answer, whatever its bytes: 404 for an unknown path, 405 for a method other than
GET or HEAD, 400 for a malformed request, 413 for a body over MAX_BODY, 414 or 431 for a request line or
head over MAX_HEAD, 408 when a started request does not arrive within --header-timeout; a connection idle
for --idle-timeout is closed, and so is one whose client sends ``Connection: close``. Rejections are
logged to stderr one line each, the first LOGGED_REJECTIONS of them; the rest are only counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys

import h11

from labs.core import proctree
from labs.workloads.io.pages import PageCache

MAX_LATENCY_MS = 10_000
MAX_PAYLOAD = 16 << 20
MAX_PAGE = (1 << 64) - 1  # page_bytes encodes the page number in 8 bytes
MAX_HEAD = 16 << 10  # request line and headers together; a real client sends well under 1 KiB
MAX_TARGET = 8 << 10  # the request target alone
MAX_BODY = 64 << 10  # no route takes a body: a small one is read and ignored, a larger one refused
# A large page goes out in slices, each made (copied from the cache, or computed) and sent before the next
# is queued: a connection holds at most about one slice, whatever the payload and however slowly its
# client reads. A small page goes out in one write with its head.
WRITE_CHUNK, JOIN_BELOW = 1 << 20, 64 << 10
LOGGED_REJECTIONS = 1000  # enough to diagnose a client; a hostile one cannot fill the disk through the log
DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT = 10.0, 60.0
LINGER_SECONDS, LINGER_BYTES = 2.0, 1 << 20  # after an error response: how long, how much input to drop
_PAGE = re.compile(rb"/page/([0-9]{1,20})")
_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


class Rejected(Exception):
    """A request answered with an error *status*, after which the connection is closed: its unread
    bytes (a body, the rest of a malformed head) cannot be told apart from a next request."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def error_response(status: int, reason: str) -> bytes:
    body = f"{status} {_REASONS[status]}: {reason}\n".encode()
    allow = "Allow: GET, HEAD\r\n" if status == 405 else ""
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n{allow}Connection: close\r\n\r\n"
    )
    return head.encode() + body


def _protocol_status(exc: h11.RemoteProtocolError, connection: h11.Connection) -> int:
    """h11's hint (400, or 431 for a head over MAX_HEAD), with 414 when the request line alone is long."""
    if exc.error_status_hint == 431 and b"\n" not in connection.trailing_data[0][: MAX_TARGET + 16]:
        return 414
    return exc.error_status_hint


async def _read_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """The next bytes from the client (b"" at its end of stream), or None after *seconds* without any."""
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            return await reader.read(65536)
    except TimeoutError:
        return None


class Server:
    def __init__(
        self,
        latency_ms: int,
        payload: int,
        truncate: bool,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.latency = latency_ms / 1000
        self.truncate = truncate
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.served = 0
        self.rejected = 0
        self.pages = PageCache(payload)
        self.open: set[asyncio.StreamWriter] = set()

    def drop_all(self) -> None:
        """Abort every open connection at once: on shutdown no client is waited for."""
        for writer in list(self.open):
            writer.transport.abort()

    def log_rejection(self, peer: object, status: int, reason: str) -> None:
        self.rejected += 1
        if self.rejected > LOGGED_REJECTIONS + 1:
            return
        line = f"{status} to {peer}: {reason[:200]}"
        if self.rejected > LOGGED_REJECTIONS:
            line = f"more than {LOGGED_REJECTIONS} requests rejected; the rest are counted in /stats only"
        try:
            print(line, file=sys.stderr, flush=True)
        except (OSError, ValueError):  # a full disk or a closed stderr must not stop the serving
            pass

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        peer = writer.get_extra_info("peername")
        self.open.add(writer)
        try:
            while await self.serve_one(connection, reader, writer):
                connection.start_next_cycle()
        except Rejected as exc:
            self.log_rejection(peer, exc.status, str(exc))
            writer.write(error_response(exc.status, str(exc)))
            await self._linger(reader, writer)
        except (ConnectionError, TimeoutError):  # the client left, or stopped reading for idle_timeout
            writer.transport.abort()
        except asyncio.CancelledError:
            # The server is stopping. The handler ends normally rather than cancelled: 3.12.1's streams
            # callback calls task.exception() on a cancelled handler and prints a traceback.
            writer.transport.abort()
        except Exception as exc:  # a bug here must cost one connection, never the server
            self.log_rejection(peer, 500, f"{type(exc).__name__}: {exc}")
            if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                writer.write(error_response(500, type(exc).__name__))
        finally:
            self.open.discard(writer)
            await self._close(writer)

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Half-close, then drop what the client still sends, for a moment: closing a socket with unread
        input makes the kernel reset the connection, and the client could lose the error response."""
        loop = asyncio.get_running_loop()
        deadline, dropped = loop.time() + min(LINGER_SECONDS, self.idle_timeout), 0
        try:
            if writer.can_write_eof():
                writer.write_eof()
            while dropped < LINGER_BYTES:
                data = await _read_within(reader, deadline - loop.time())
                if not data:  # the client closed too, or the moment is over
                    return
                dropped += len(data)
        except OSError:  # the client reset the connection: nothing left to linger for
            return

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        """Close after the buffered response has gone out, or abort if the client will not take it."""
        writer.close()
        try:
            async with asyncio.timeout(self.idle_timeout):
                await writer.wait_closed()
        except Exception:  # too slow, or reset: nothing more can be said to this client
            writer.transport.abort()

    async def serve_one(
        self, connection: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request and answer it; True when the connection may carry another."""
        request = await self.read_request(connection, reader)
        if request is None:
            return False
        await self.respond(connection, writer, request)
        if self.truncate:
            return False
        # MUST_CLOSE: the client sent Connection: close, or spoke HTTP/1.0.
        return connection.our_state is h11.DONE and connection.their_state is h11.DONE

    async def read_request(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> h11.Request | None:
        """The next whole request (its body read and dropped), or None when the client closed the
        connection or left it idle for idle_timeout. Raises Rejected for a request that gets no page."""
        loop = asyncio.get_running_loop()
        request, body_bytes, deadline = None, 0, None
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as exc:
                raise Rejected(_protocol_status(exc, connection), str(exc)) from None
            if event is h11.NEED_DATA:
                if connection.their_state is h11.IDLE and not connection.trailing_data[0]:
                    data = await _read_within(reader, self.idle_timeout)
                    if data is None:
                        return None
                else:  # a request has begun: all of it must arrive within header_timeout
                    deadline = deadline or loop.time() + self.header_timeout
                    data = await _read_within(reader, deadline - loop.time())
                    if data is None:
                        raise Rejected(408, f"request not complete within {self.header_timeout:g} s")
                connection.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
                _check_request(event)
            elif isinstance(event, h11.Data):
                body_bytes += len(event.data)
                if body_bytes > MAX_BODY:
                    raise Rejected(413, f"request body over {MAX_BODY} bytes")
            elif isinstance(event, h11.EndOfMessage):
                return request
            else:  # ConnectionClosed, or PAUSED, which a server that never upgrades cannot reach
                return None

    async def respond(
        self, connection: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request
    ) -> None:
        target, head_only = request.target, request.method == b"HEAD"
        page = _PAGE.fullmatch(target)
        if target == b"/stats":
            cached = len(self.pages) * self.pages.payload
            body = json.dumps(
                {"served": self.served, "rejected": self.rejected, "cached_bytes": cached}
            ).encode()
        elif page and int(page[1]) <= MAX_PAGE:
            await asyncio.sleep(self.latency)
            self.served += 1
            if self.pages.payload > JOIN_BELOW and not self.truncate and not head_only:
                await self._send_page(connection, writer, int(page[1]))
                return
            body = self.pages.get(int(page[1]))
        else:
            await self._send(connection, writer, 404, b"not found", head_only)
            return
        if self.truncate and page:
            headers = [("Content-Length", str(len(body))), ("Content-Type", "application/octet-stream")]
            writer.write(connection.send(h11.Response(status_code=200, headers=headers)))
            writer.write(body[: len(body) // 2])  # announce everything, send half, hang up
            await self._drain(writer)
            return
        await self._send(connection, writer, 200, body, head_only)

    async def _send(
        self,
        connection: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        head_only: bool,
    ) -> None:
        kind = "application/octet-stream" if status == 200 else "text/plain"
        headers = [("Content-Length", str(len(body))), ("Content-Type", kind)]
        response = h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, "OK"))
        head = connection.send(response)
        if head_only or len(body) <= JOIN_BELOW:  # one write, so one send() on the socket
            data = b"" if head_only else connection.send(h11.Data(data=body))
            writer.write(b"".join((head, data, connection.send(h11.EndOfMessage()))))
            await self._drain(writer)
            return
        writer.write(head)
        view = memoryview(body)  # slices of the cached page go out as they are, never copied
        for start in range(0, len(body), WRITE_CHUNK):
            for piece in connection.send_with_data_passthrough(
                h11.Data(data=view[start : start + WRITE_CHUNK])
            ):
                writer.write(piece)
            await self._drain(writer)
        writer.write(connection.send(h11.EndOfMessage()))
        await self._drain(writer)

    async def _send_page(self, connection: h11.Connection, writer: asyncio.StreamWriter, number: int) -> None:
        """A large page in slices, each made and sent before the next: a reader that stops reading holds
        one slice of server memory, however many such readers there are (the cache is bounded apart)."""
        size = self.pages.payload
        headers = [("Content-Length", str(size)), ("Content-Type", "application/octet-stream")]
        writer.write(connection.send(h11.Response(status_code=200, headers=headers, reason="OK")))
        for start in range(0, size, WRITE_CHUNK):
            for piece in connection.send_with_data_passthrough(
                h11.Data(data=self.pages.slice(number, start, start + WRITE_CHUNK))
            ):
                writer.write(piece)
            await self._drain(writer)
        writer.write(connection.send(h11.EndOfMessage()))
        await self._drain(writer)

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        """Wait for the client to take the response; one that takes nothing for idle_timeout is dropped."""
        if not writer.transport.get_write_buffer_size():  # all sent already: the common case, kept cheap
            return
        async with asyncio.timeout(self.idle_timeout):
            await writer.drain()


def _check_request(request: h11.Request) -> None:
    """Refuse what no route serves. h11 limits only a head still incomplete in its buffer; one that
    arrived whole in a single read is measured here."""
    if len(request.target) > MAX_TARGET:
        raise Rejected(414, f"request target of {len(request.target)} bytes; at most {MAX_TARGET}")
    head = len(request.method) + len(request.target) + sum(len(n) + len(v) + 4 for n, v in request.headers)
    if head > MAX_HEAD:
        raise Rejected(431, f"request head of about {head} bytes; at most {MAX_HEAD}")
    if request.method not in (b"GET", b"HEAD"):
        raise Rejected(405, f"method {request.method.decode('ascii', 'replace')} not allowed")
    for name, value in request.headers:
        if name == b"content-length" and int(value) > MAX_BODY:
            raise Rejected(413, f"request body of {int(value)} bytes; at most {MAX_BODY}")


async def serve(port: int, latency_ms: int, payload: int, truncate: bool, **timeouts: float) -> None:
    server = Server(latency_ms, payload, truncate, **timeouts)
    try:
        listener = await asyncio.start_server(
            server.handle, "127.0.0.1", port, backlog=4096, reuse_address=False
        )
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"ERROR: cannot listen on 127.0.0.1:{port}: {reason}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    # SIGTERM (from the lab, or from the kernel when the lab dies) stops the loop between callbacks; an
    # exception raised from a plain signal handler lands inside whatever callback runs, mid-write.
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"READY {listener.sockets[0].getsockname()[1]}", flush=True)
    try:
        await stop.wait()
    finally:
        listener.close()
        server.drop_all()


def _problem(args: argparse.Namespace) -> str | None:
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        return f"latency {args.latency_ms} ms is out of range: 0 .. {MAX_LATENCY_MS} ms"
    if not 1 <= args.payload <= MAX_PAYLOAD:
        return f"payload {args.payload} bytes is out of range: 1 .. {MAX_PAYLOAD}"
    for name in ("header_timeout", "idle_timeout"):
        if not 0.01 <= getattr(args, name) <= 3600:  # NaN fails too
            return f"--{name.replace('_', '-')} {getattr(args, name)} s is out of range: 0.01 .. 3600 s"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labs.workloads.io.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--payload", type=int, default=16 << 10)
    parser.add_argument("--truncate", action="store_true")
    parser.add_argument("--header-timeout", type=float, default=DEFAULT_HEADER_TIMEOUT)
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT)
    parser.add_argument("--parent", type=int, help="the pid that started the server: it dies with it")
    args = parser.parse_args(argv)
    problem = _problem(args)
    if problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 2
    # The server ends when the process that started it ends, however it ends (SIGKILL included), so
    # no server outlives its bench; SIGTERM lets it close its connections first.
    proctree.die_with_parent(signal.SIGTERM)
    if args.parent is not None and os.getppid() != args.parent:  # gone before the request took effect
        return 1
    timeouts = {"header_timeout": args.header_timeout, "idle_timeout": args.idle_timeout}
    try:
        asyncio.run(serve(args.port, args.latency_ms, args.payload, args.truncate, **timeouts))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
