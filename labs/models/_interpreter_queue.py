"""The pipeline channel over a PEP 734 interpreters queue, shared by both interpreters models."""

from __future__ import annotations

import queue
import time
from typing import Any

from labs import interpreters_api
from labs.models.base import Channel, Model


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
