"""The latency ladder, measured from Python on this machine, beside the classic numbers.

Each rung is one operation timed many times in a row (pyperf's inner loops): its value is the time of
one operation. The classic figures are the widely quoted "latency numbers every programmer should
know" (Jeff Dean, Peter Norvig; c. 2010); the report shows measured / classic.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import socket
import tempfile
import threading
import time
from typing import Any

from labs.core import interpreters_api

PAGE = 4096


class Rung:
    name = ""
    description = ""
    classic: tuple[str, float] | None = None  # (what, seconds)
    ops = 1000  # operations per timed call

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    def start(self) -> None: ...

    def timed(self, loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            self.run()
        return time.perf_counter() - start

    def run(self) -> None:
        raise NotImplementedError

    def close(self) -> None: ...


class DictHit(Rung):
    name = "dict-hit"
    description = "look up a present key in a 1,000-key dict"
    classic = ("L2 cache reference", 7e-9)
    ops = 100_000

    def start(self) -> None:
        self.table = {f"key{i}": i for i in range(1000)}
        self.keys = [f"key{i % 1000}" for i in range(self.ops)]

    def run(self) -> None:
        table = self.table
        for key in self.keys:
            table[key]


class MemoryRandom(Rung):
    name = "memory-random"
    description = "read one byte at a random offset of a 256 MiB bytearray (mostly cache misses)"
    classic = ("main memory reference", 100e-9)
    ops = 100_000

    def start(self) -> None:
        self.buffer = bytearray(256 << 20)
        rng = random.Random(7)
        self.offsets = [rng.randrange(len(self.buffer)) for _ in range(self.ops)]

    def run(self) -> None:
        buffer = self.buffer
        for offset in self.offsets:
            buffer[offset]


class PageCacheRead(Rung):
    name = "page-cache-read"
    description = "os.pread of 4 KiB at a random offset of a 64 MiB file already in the page cache"
    classic = ("read 4 KB sequentially from memory (1 MB: 250 us)", 1e-6)
    ops = 10_000

    def start(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.file.write(os.urandom(64 << 20))
        self.file.flush()
        self.fd = self.file.fileno()
        os.pread(self.fd, 64 << 20, 0)  # into the page cache
        rng = random.Random(7)
        self.offsets = [rng.randrange(0, (64 << 20) - PAGE, PAGE) for _ in range(self.ops)]

    def run(self) -> None:
        fd = self.fd
        for offset in self.offsets:
            os.pread(fd, PAGE, offset)

    def close(self) -> None:
        self.file.close()


class FsyncWrite(Rung):
    name = "fsync-write"
    description = "os.pwrite of 4 KiB then os.fsync, in the system's temporary directory"
    classic = ("read 4 KB randomly from SSD", 150e-6)
    ops = 20

    def start(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.fd = self.file.fileno()
        self.page = os.urandom(PAGE)

    def run(self) -> None:
        for i in range(self.ops):
            os.pwrite(self.fd, self.page, i * PAGE)
            os.fsync(self.fd)

    def close(self) -> None:
        self.file.close()


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


def _pipe_echo(connection: Any) -> None:
    while (data := connection.recv_bytes()) != b"":
        connection.send_bytes(data)


class ProcessRoundTrip(Rung):
    name = "process-round-trip"
    description = "1-byte round trip through a multiprocessing.Pipe to an echo process"
    classic = None
    ops = 1000

    def start(self) -> None:
        self.connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_pipe_echo, args=(child,), daemon=True)
        self.process.start()

    def run(self) -> None:
        connection = self.connection
        for _ in range(self.ops):
            connection.send_bytes(b"x")
            connection.recv_bytes()

    def close(self) -> None:
        self.connection.send_bytes(b"")
        self.process.join()


class InterpreterRoundTrip(Rung):
    name = "subinterpreter-round-trip"
    description = "1-byte round trip through interpreters queues to an echo subinterpreter"
    classic = None
    ops = 200

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return interpreters_api.unavailable_reason()

    def start(self) -> None:
        from labs.measure.costs.transfer import InterpreterQueue

        self.channel = InterpreterQueue(1)
        self.channel.start()

    def run(self) -> None:
        trip = self.channel.round_trip
        for _ in range(self.ops):
            trip(b"x")

    def close(self) -> None:
        self.channel.close()


RUNGS: dict[str, type[Rung]] = {
    cls.name: cls
    for cls in (
        DictHit,
        MemoryRandom,
        PageCacheRead,
        FsyncWrite,
        TcpLoopback,
        ThreadHandoff,
        ProcessRoundTrip,
        InterpreterRoundTrip,
    )
}


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
