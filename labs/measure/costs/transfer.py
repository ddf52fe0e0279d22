"""Round trip of a payload to a worker and back, per carrier.

Every carrier has an echo worker that sends back what it receives; the timed operation is one
``round_trip``: send the payload, receive it back. ("Carrier", not "channel": a model's pipeline
queues are its channels.) Carriers:

thread-queue            queue.Queue to a thread: the object itself is shared, nothing is copied
interp-bytes            interpreters queue to a subinterpreter, bytes (shareable: copied)
interp-memoryview       interpreters queue, a memoryview of one buffer (shareable: not copied)
interp-pickle           interpreters queue, a list of ints (not shareable: pickled both ways)
mp-queue                multiprocessing.Queue to a process (pickled, through a pipe and a feeder thread)
mp-pipe                 multiprocessing.Pipe to a process, send_bytes / recv_bytes
shared-memory           multiprocessing.shared_memory: the worker copies the block out and back in,
                        a one-byte Pipe message each way says when
task-MODEL              one call of a task that returns its argument, through MODEL with one worker
                        (threads, processes-forkserver, interpreters-pool, dask, celery): the payload
                        goes in the call and comes back as its result; at 1 B, a trivial task's round trip
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from multiprocessing import shared_memory
from typing import Any

from labs.core import interpreters_api
from labs.core.errors import VerificationError
from labs.core.limits import KiB, MiB
from labs.core.plugin import Plugin, Registry

DEFAULT_SIZES = (1, KiB, 64 * KiB, MiB, 16 * MiB, 64 * MiB)
QUICK_SIZES = (1, KiB, 64 * KiB, MiB, 16 * MiB)
PICKLE_LIMIT = 16 * MiB  # a 64 MiB list of ints pickles for seconds and weighs ~20x its payload


def _echo_queue(inbound: Any, outbound: Any) -> None:
    while (item := inbound.get()) is not None:
        outbound.put(item)


def _echo_pipe(connection: Any) -> None:
    while (data := connection.recv_bytes()) != b"":
        connection.send_bytes(data)


def _echo_shared_memory(connection: Any, name: str) -> None:
    block = shared_memory.SharedMemory(name=name)
    try:
        while (message := connection.recv_bytes()) != b"":
            size = int(message)
            data = bytes(block.buf[:size])  # copy out, as a worker that keeps the data would
            block.buf[:size] = data  # and back in for the reply
            connection.send_bytes(b"1")
    finally:
        block.close()


def _interp_echo(inbound: Any, outbound: Any, shared: bool) -> None:
    """Runs inside the echo subinterpreter."""
    from labs.models._interpreter_queue import poll_get

    while (item := poll_get(inbound, 3600.0)) is not None:
        interpreters_api.put(outbound, item, shared=shared)


class Carrier(Plugin):
    """One way to carry a payload to an echo worker and back (the ``subject`` of a transfer bench)."""

    family = ""  # the models it serves: a model's name, or the start of their names ("processes")

    def __init__(self, size: int) -> None:
        self.size = size

    @classmethod
    def unavailable_reason(cls, size: int) -> str | None:
        return None

    def payload(self) -> Any:
        return bytes(self.size)

    def round_trip(self, payload: Any) -> Any:
        raise NotImplementedError


class QueueEcho(Carrier):
    """A queue pair to an echo worker, of the subclass's queue and worker types."""

    queue_type: Any = None
    worker_type: Any = None

    def start(self) -> None:
        self._in, self._out = self.queue_type(), self.queue_type()
        self._echo = self.worker_type(target=_echo_queue, args=(self._in, self._out), daemon=True)
        self._echo.start()

    def round_trip(self, payload: Any) -> Any:
        self._in.put(payload)
        return self._out.get()

    def close(self) -> None:
        self._in.put(None)
        self._echo.join()


class ThreadQueue(QueueEcho):
    name = "thread-queue"
    family = "threads"
    description = "queue.Queue to a thread (the object is shared)"
    queue_type, worker_type = queue.Queue, threading.Thread


class ProcessQueue(QueueEcho):
    name = "mp-queue"
    family = "processes"
    description = "multiprocessing.Queue to a process (pickled)"
    queue_type, worker_type = multiprocessing.Queue, multiprocessing.Process


class InterpreterQueue(Carrier):
    name = "interp-bytes"
    family = "interpreters"
    description = "interpreters queue to a subinterpreter, bytes (copied)"
    shared = True  # a shareable payload crosses as is; otherwise it is pickled both ways
    limit: tuple[int, str] | None = None  # (largest payload measured, why no larger)

    @classmethod
    def unavailable_reason(cls, size: int) -> str | None:
        if cls.limit and size > cls.limit[0]:
            return cls.limit[1]
        return interpreters_api.unavailable_reason()

    def start(self) -> None:
        from labs.models._interpreter_queue import poll_get, start_serving

        self._poll_get = poll_get
        api = interpreters_api.interpreters()
        self._in, self._out = api.create_queue(), api.create_queue()
        self._interp, self._thread = start_serving(
            "from labs.measure.costs.transfer import _interp_echo",
            f"_interp_echo(inbound, outbound, {self.shared!r})",
            "labs-echo",
            inbound=self._in,
            outbound=self._out,
        )

    def round_trip(self, payload: Any) -> Any:
        interpreters_api.put(self._in, payload, shared=self.shared)
        return self._poll_get(self._out, 600.0)

    def close(self) -> None:
        interpreters_api.put(self._in, None, shared=True)
        self._thread.join()
        self._interp.close()


class InterpreterMemoryview(InterpreterQueue):
    name = "interp-memoryview"
    description = "interpreters queue, memoryview of one buffer (shared, not copied)"

    @classmethod
    def unavailable_reason(cls, size: int) -> str | None:
        return interpreters_api.memoryview_unavailable_reason()

    def payload(self) -> Any:
        return memoryview(bytearray(self.size))


class InterpreterPickle(InterpreterQueue):
    name = "interp-pickle"
    description = "interpreters queue, a list of ints (pickled both ways)"
    shared = False
    limit = (PICKLE_LIMIT, f"the pickle fallback is measured up to {PICKLE_LIMIT >> 20} MiB")

    def payload(self) -> Any:
        return list(range(max(1, self.size // 8)))  # ~size bytes of pickled small ints


class PipeEcho(Carrier):
    """A multiprocessing.Pipe to an echo process; the subclass says what travels through it."""

    family = "processes"

    def _echo_args(self, child: Any) -> tuple[Any, tuple]:
        return _echo_pipe, (child,)

    def start(self) -> None:
        self._connection, child = multiprocessing.Pipe()
        target, args = self._echo_args(child)
        self._process = multiprocessing.Process(target=target, args=args, daemon=True)
        self._process.start()

    def close(self) -> None:
        self._connection.send_bytes(b"")
        self._process.join()


class ProcessPipe(PipeEcho):
    name = "mp-pipe"
    description = "multiprocessing.Pipe to a process, send_bytes / recv_bytes"

    def round_trip(self, payload: Any) -> Any:
        self._connection.send_bytes(payload)
        return self._connection.recv_bytes()


class SharedMemory(PipeEcho):
    name = "shared-memory"
    description = "shared_memory block; the worker copies it out and back; 1-byte Pipe messages signal"

    def _echo_args(self, child: Any) -> tuple[Any, tuple]:
        self._block = shared_memory.SharedMemory(create=True, size=self.size)
        return _echo_shared_memory, (child, self._block.name)

    def round_trip(self, payload: Any) -> Any:
        self._block.buf[: self.size] = payload
        self._connection.send_bytes(str(self.size).encode())
        self._connection.recv_bytes()
        return bytes(self._block.buf[: self.size])

    def close(self) -> None:
        super().close()
        self._block.close()
        self._block.unlink()


def echo(payload: Any) -> Any:
    return payload


class ModelTask(Carrier):
    """One call through a model with one worker: what dispatching a task costs, by payload size."""

    model = ""

    @classmethod
    def unavailable_reason(cls, size: int) -> str | None:
        from labs import models

        return models.get(cls.model).unavailable_reason()

    def start(self) -> None:
        from labs import models

        self._model = models.get(self.model)(1).__enter__()  # a failed start cleans up after itself

    def round_trip(self, payload: Any) -> Any:
        return self._model.submit("labs.measure.costs.transfer:echo", payload).result()

    def close(self) -> None:
        self._model.shutdown()


def _task_carrier(model: str) -> type[Carrier]:
    description = f"one call of an echo task through {model}, one worker"
    attributes = {"name": f"task-{model}", "description": description, "model": model, "family": model}
    attributes["__module__"] = __name__
    return type(f"Task{model.title().replace('-', '')}", (ModelTask,), attributes)


TASK_MODELS = ("threads", "processes-forkserver", "interpreters-pool", "dask", "celery")

CARRIERS: Registry[type[Carrier]] = Registry(
    "transfer carrier",
    ThreadQueue,
    InterpreterQueue,
    InterpreterMemoryview,
    InterpreterPickle,
    ProcessQueue,
    ProcessPipe,
    SharedMemory,
    *(_task_carrier(model) for model in TASK_MODELS),
)


def check_echo(carrier: Carrier, payload: Any) -> None:
    """Raise unless one round trip gives back an equal payload (verified like every other bench)."""
    echoed = carrier.round_trip(payload)
    same = echoed == payload if isinstance(payload, list) else bytes(echoed) == bytes(payload)
    if not same:
        raise VerificationError(
            f"{carrier.name}: the echo of {carrier.size} bytes differs from what was sent"
        )
