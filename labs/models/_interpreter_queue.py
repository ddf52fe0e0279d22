"""What the subinterpreter models (and the costs suite's echo workers) share: the lab's sys.path for
new interpreters, long-running interpreters fed through queues, and the pipeline channel."""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any

from labs.core import interpreters_api
from labs.models.base import Channel, Model


def path_setup_code() -> str:
    """Code that gives a new interpreter the lab's sys.path (a checkout that is not installed, say)."""
    return f"import sys; sys.path[:] = {list(sys.path)!r}"


def import_queues() -> None:
    """Run inside a new interpreter: queues can be handed to it only once it imported the queue module."""
    interpreters_api.interpreters().create_queue  # noqa: B018  (the attribute imports the queue module)


def start_serving(imports: str, code: str, name: str, **shared: Any) -> tuple[Any, threading.Thread]:
    """A new interpreter with the lab's sys.path, *imports* run and *shared* objects (queues) in its
    ``__main__``, running *code* in a daemon thread of its own. Returns (interpreter, thread)."""
    interp = interpreters_api.interpreters().create()
    interp.exec(
        f"{path_setup_code()}\nfrom labs.models._interpreter_queue import import_queues\n"
        f"import_queues()\n{imports}"
    )
    interp.prepare_main(**shared)
    thread = threading.Thread(target=interp.exec, args=(code,), name=name, daemon=True)
    thread.start()
    return interp, thread


def poll_get(source: Any, timeout: float) -> Any:
    """Get from an interpreters queue within *timeout* seconds, or raise queue.Empty.

    The queue's own ``get(timeout)`` truncates the timeout to whole seconds and polls every 10 ms;
    a short backoff keeps hand-offs near the queue's real latency instead.
    """
    empty = interpreters_api.interpreters().QueueEmpty
    deadline = time.monotonic() + timeout
    delay = 5e-5
    while True:
        try:
            return source.get_nowait()
        except empty:
            if time.monotonic() >= deadline:
                raise queue.Empty from None
            time.sleep(delay)
            delay = min(delay * 2, 2e-3)


class InterpreterChannel:
    """Wraps an interpreters queue; it pickles with the queue, which resolves by id in any interpreter."""

    def __init__(self, source: Any = None) -> None:
        self._queue = source if source is not None else interpreters_api.interpreters().create_queue()

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return InterpreterChannel, (self._queue,)

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> Any:
        return poll_get(self._queue, timeout)


class SubinterpreterModel(Model):
    """What both subinterpreter models share: availability, facts and the pipeline's queues."""

    queue_type = "interpreters queue"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return interpreters_api.unavailable_reason()

    def facts(self) -> dict[str, Any]:
        return {"interpreters_api": interpreters_api.source()[0]}

    def channels(self) -> tuple[Channel, Channel]:
        return InterpreterChannel(), InterpreterChannel()
