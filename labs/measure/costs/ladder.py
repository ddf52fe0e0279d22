"""The latency ladder, measured from Python on this machine, beside the classic numbers.

Each rung is one operation timed many times in a row (pyperf's inner loops): its value is the time of
one operation. The classic figures are the widely quoted "latency numbers every programmer should
know" (Jeff Dean, Peter Norvig; c. 2010); the report shows measured / classic.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
import threading
import time
from typing import Any

from labs.core.plugin import Plugin, Registry
from labs.measure.costs import transfer

PAGE = 4096


class Rung(Plugin):
    """One operation of the ladder; ``run`` does it ``ops`` times."""

    classic: tuple[str, float] | None = None  # (what, seconds)
    ops = 1000  # operations per timed call

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    def timed(self, loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            self.run()
        return time.perf_counter() - start

    def run(self) -> None:
        raise NotImplementedError


class Lookup(Rung):
    """``container[index]`` for each of ``ops`` prepared indexes: only the lookup is timed."""

    ops = 100_000

    def prepare(self) -> tuple[Any, list[Any]]:
        raise NotImplementedError

    def start(self) -> None:
        self.container, self.indexes = self.prepare()

    def run(self) -> None:
        container = self.container
        for index in self.indexes:
            container[index]


class DictHit(Lookup):
    name = "dict-hit"
    description = "look up a present key in a 1,000-key dict"
    classic = ("L2 cache reference", 7e-9)

    def prepare(self) -> tuple[Any, list[Any]]:
        return {f"key{i}": i for i in range(1000)}, [f"key{i % 1000}" for i in range(self.ops)]


class MemoryRandom(Lookup):
    name = "memory-random"
    description = "read one byte at a random offset of a 256 MiB bytearray (mostly cache misses)"
    classic = ("main memory reference", 100e-9)

    def prepare(self) -> tuple[Any, list[Any]]:
        buffer, rng = bytearray(256 << 20), random.Random(7)
        return buffer, [rng.randrange(len(buffer)) for _ in range(self.ops)]


class FileRung(Rung):
    """A rung on a temporary file in the system's temporary directory, closed (and so removed) after."""

    def start(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.fd = self.file.fileno()
        self.prepare()

    def prepare(self) -> None: ...

    def close(self) -> None:
        self.file.close()


class PageCacheRead(FileRung):
    name = "page-cache-read"
    description = "os.pread of 4 KiB at a random offset of a 64 MiB file already in the page cache"
    classic = ("read 4 KB sequentially from memory (1 MB: 250 us)", 1e-6)
    ops = 10_000

    def prepare(self) -> None:
        self.file.write(os.urandom(64 << 20))
        self.file.flush()
        os.pread(self.fd, 64 << 20, 0)  # into the page cache
        rng = random.Random(7)
        self.offsets = [rng.randrange(0, (64 << 20) - PAGE, PAGE) for _ in range(self.ops)]

    def run(self) -> None:
        fd = self.fd
        for offset in self.offsets:
            os.pread(fd, PAGE, offset)


class FsyncWrite(FileRung):
    name = "fsync-write"
    description = "os.pwrite of 4 KiB then os.fsync, in the system's temporary directory"
    classic = ("read 4 KB randomly from SSD", 150e-6)
    ops = 20

    def prepare(self) -> None:
        self.page = os.urandom(PAGE)

    def run(self) -> None:
        for i in range(self.ops):
            os.pwrite(self.fd, self.page, i * PAGE)
            os.fsync(self.fd)


def _tcp_echo(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        while data := connection.recv(1):
            connection.sendall(data)


class TcpLoopback(Rung):
    name = "tcp-loopback"
    description = "1-byte round trip over TCP on 127.0.0.1 to an echo thread (TCP_NODELAY)"
    classic = ("round trip within the same datacenter", 500e-6)
    ops = 1000

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=_tcp_echo, args=(self.server,), daemon=True)
        self.thread.start()
        self.client = socket.create_connection(self.server.getsockname())
        self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run(self) -> None:
        client = self.client
        for _ in range(self.ops):
            client.sendall(b"x")
            client.recv(1)

    def close(self) -> None:
        self.client.close()
        self.thread.join()
        self.server.close()


class ThreadHandoff(Rung):
    name = "thread-handoff"
    description = "lock ping-pong: wake another thread and be woken back"
    classic = ("mutex lock/unlock", 25e-9)
    ops = 1000

    def start(self) -> None:
        self.ping, self.pong = threading.Lock(), threading.Lock()
        self.ping.acquire()
        self.pong.acquire()
        self.stop = False
        self.thread = threading.Thread(target=self._partner, daemon=True)
        self.thread.start()

    def _partner(self) -> None:
        while True:
            self.ping.acquire()
            if self.stop:
                return
            self.pong.release()

    def run(self) -> None:
        ping, pong = self.ping, self.pong
        for _ in range(self.ops):
            ping.release()
            pong.acquire()

    def close(self) -> None:
        self.stop = True
        self.ping.release()
        self.thread.join()


class EchoRoundTrip(Rung):
    """A 1-byte round trip through one of the transfer carriers (the same echo workers)."""

    carrier: Any = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return cls.carrier.unavailable_reason(1)

    def start(self) -> None:
        self.echo = self.carrier(1)
        self.echo.start()

    def run(self) -> None:
        trip = self.echo.round_trip
        for _ in range(self.ops):
            trip(b"x")

    def close(self) -> None:
        self.echo.close()


class ProcessRoundTrip(EchoRoundTrip):
    name = "process-round-trip"
    description = "1-byte round trip through a multiprocessing.Pipe to an echo process"
    carrier = transfer.ProcessPipe


class InterpreterRoundTrip(EchoRoundTrip):
    name = "subinterpreter-round-trip"
    description = "1-byte round trip through interpreters queues to an echo subinterpreter"
    carrier = transfer.InterpreterQueue
    ops = 200


RUNGS: Registry[type[Rung]] = Registry(
    "ladder rung",
    DictHit,
    MemoryRandom,
    PageCacheRead,
    FsyncWrite,
    TcpLoopback,
    ThreadHandoff,
    ProcessRoundTrip,
    InterpreterRoundTrip,
)


def temp_filesystem() -> str:
    """The filesystem type under the temporary directory (tmpfs makes fsync nearly free)."""
    target, best, kind = os.path.realpath(tempfile.gettempdir()), "", "unknown"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                _, point, fstype, *_ = line.split()
                if target.startswith(point) and len(point) > len(best):
                    best, kind = point, fstype
    except OSError:
        pass
    return kind
