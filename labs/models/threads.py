"""threads: a ThreadPoolExecutor. On a free-threaded build with the GIL off, this *is* free-threading."""

from __future__ import annotations

import queue
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from labs.core import runtime
from labs.core.pool_worker import call, warm_up
from labs.models.base import Channel, Model


class Threads(Model):
    name = "threads"
    description = "concurrent.futures.ThreadPoolExecutor (free-threaded when the GIL is off)"
    queue_type = "queue.Queue"

    def facts(self) -> dict[str, Any]:
        return {"threading": "GIL" if runtime.gil_enabled() else "free-threaded"}

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="labs-threads")
        # Overlapping sleeps make the pool create every thread before any job is timed.
        wait([self._pool.submit(warm_up, self.warm_delay) for _ in range(self.workers)])

    def submit(self, func: str, *args: Any) -> Future:
        return self._pool.submit(call, func, *args)

    def channels(self) -> tuple[Channel, Channel]:
        return queue.Queue(), queue.Queue()

    def shutdown(self, *, abandon: bool = False) -> None:
        # A running thread cannot be killed; abandoning leaves it to the process's exit.
        self._pool.shutdown(wait=not abandon, cancel_futures=True)


MODELS = (Threads,)
