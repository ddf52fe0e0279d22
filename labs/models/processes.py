"""processes: a ProcessPoolExecutor, declared once for each multiprocessing start method.

Its pipeline uses two multiprocessing.Queue objects created with the pool and handed to every
worker by the pool's initializer (a queue can only travel to a process when it is created).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Any

from labs.core.pool_worker import call, warm_up
from labs.models.base import Channel, Model

_inherited: tuple[Any, ...] = ()  # set in each worker process by _adopt


def _adopt(*queues: Any) -> None:
    global _inherited
    _inherited = queues


def _inherited_queue(slot: int) -> Any:
    return _inherited[slot]


class InheritedQueue:
    """A handle to one of the pool's queues; it pickles as its slot and resolves inside the worker."""

    def __init__(self, slot: int, queue: Any) -> None:
        self.slot = slot
        self._queue = queue

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return _inherited_queue, (self.slot,)

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> Any:
        return self._queue.get(timeout=timeout)


class Processes(Model):
    start_method = ""
    in_process = False
    queue_type = "multiprocessing.Queue"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        methods = multiprocessing.get_all_start_methods()
        if cls.start_method not in methods:
            return (
                f"start method {cls.start_method!r} is not available here (available: {', '.join(methods)})"
            )
        return None

    def facts(self) -> dict[str, Any]:
        return {"start_method": self.start_method}

    def start(self) -> None:
        context = multiprocessing.get_context(self.start_method)
        self._queues = (context.Queue(), context.Queue())
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_adopt, initargs=self._queues
        )
        # Overlapping sleeps make the pool start every process before any job is timed.
        wait([self._pool.submit(warm_up, self.warm_delay) for _ in range(self.workers)])

    def submit(self, func: str, *args: Any) -> Future:
        return self._pool.submit(call, func, *args)

    def channels(self) -> tuple[Channel, Channel]:
        return InheritedQueue(0, self._queues[0]), InheritedQueue(1, self._queues[1])

    def shutdown(self, *, abandon: bool = False) -> None:
        if abandon:
            # A hung or broken worker must not outlive the run.
            for process in list((self._pool._processes or {}).values()):
                process.kill()
            for queue in self._queues:
                queue.cancel_join_thread()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for queue in self._queues:
            queue.close()


def _variant(method: str) -> type[Processes]:
    return type(
        f"Processes{method.capitalize()}",
        (Processes,),
        {
            "name": f"processes-{method}",
            "description": f"concurrent.futures.ProcessPoolExecutor, start method {method!r}",
            "start_method": method,
            "__module__": __name__,
        },
    )


MODELS = tuple(_variant(method) for method in ("fork", "spawn", "forkserver"))
