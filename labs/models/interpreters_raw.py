"""interpreters-raw: N subinterpreters created by hand, each serving calls from an interpreters queue.

No executor: the lab puts (call id, function name, args) on one shared queue, every interpreter runs
``serve`` in its own thread, and one collector thread in the lab turns replies into futures.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from concurrent.futures import Future
from typing import Any

from labs.core import interpreters_api
from labs.models._interpreter_queue import SubinterpreterModel, poll_get, start_serving
from labs.models.base import Empty

STOP = None
_IDLE_POLL = 3600.0  # a serving interpreter waits this long for work before checking again


def serve(calls: Any, replies: Any) -> None:
    """Runs inside each subinterpreter until it receives STOP."""
    from labs.core.pool_worker import call

    while True:
        try:
            message = poll_get(calls, _IDLE_POLL)
        except Empty:
            continue
        if message is STOP:
            return
        call_id, func, args = message
        try:
            replies.put((call_id, True, call(func, *args)))
        except BaseException:
            replies.put((call_id, False, traceback.format_exc()))


class WorkerError(Exception):
    """A call raised inside a subinterpreter; the message is its formatted traceback."""


class InterpretersRaw(SubinterpreterModel):
    name = "interpreters-raw"
    description = "PEP 734 interpreters created by hand, fed through interpreters queues"

    def start(self) -> None:
        api = interpreters_api.interpreters()
        self._calls = api.create_queue()
        self._replies = api.create_queue()
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count()
        self._closing = threading.Event()
        self._interpreters = []
        self._threads = []
        for index in range(self.workers):
            interp, thread = start_serving(
                "from labs.models.interpreters_raw import serve",
                "serve(calls, replies)",
                f"labs-interp-{index}",
                calls=self._calls,
                replies=self._replies,
            )
            self._interpreters.append(interp)
            self._threads.append(thread)
        self._collector = threading.Thread(target=self._collect, name="labs-interp-replies", daemon=True)
        self._collector.start()
        for future in [
            self.submit("labs.core.pool_worker:warm_up", self.warm_delay) for _ in range(self.workers)
        ]:
            future.result()

    def _collect(self) -> None:
        while not self._closing.is_set():
            try:
                call_id, ok, value = poll_get(self._replies, 0.1)
            except Empty:
                continue
            future = self._pending.pop(call_id)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(WorkerError(value))

    def submit(self, func: str, *args: Any) -> Future:
        call_id = next(self._ids)
        future: Future = Future()
        self._pending[call_id] = future
        self._calls.put((call_id, func, args))
        return future

    def shutdown(self, *, abandon: bool = False) -> None:
        for _ in self._threads:
            self._calls.put(STOP)
        if not abandon:
            for thread in self._threads:
                thread.join()
        self._closing.set()
        self._collector.join()
        if not abandon:
            # Only once the collector stopped: on 3.12 closing an interpreter releases the queues it used.
            for interp in self._interpreters:
                interp.close()
        # An abandoned interpreter is still running a task; it ends with the process.
        for future in self._pending.values():
            future.cancel()


MODELS = (InterpretersRaw,)
