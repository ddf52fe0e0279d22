"""serial: every call runs in the calling thread, one after another. The reference for every bench."""

from __future__ import annotations

import queue
from concurrent.futures import Future
from typing import Any

from labs.core.pool_worker import call
from labs.models.base import Channel, Model


class Serial(Model):
    name = "serial"
    description = "one thread, one task after another: the baseline"
    queue_type = "queue.Queue"

    def start(self) -> None:
        pass

    def submit(self, func: str, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(call(func, *args))
        except BaseException as exc:  # the caller sees it through the future, as with a pool
            future.set_exception(exc)
        return future

    def channels(self) -> tuple[Channel, Channel]:
        return queue.Queue(), queue.Queue()

    def shutdown(self, *, abandon: bool = False) -> None:
        pass


MODELS = (Serial,)
