"""interpreters-pool: PEP 734 InterpreterPoolExecutor (stdlib on 3.14+, the backport on 3.12/3.13).

Each worker is a subinterpreter with its own GIL, running in its own thread.
"""

from __future__ import annotations

from concurrent.futures import Future, wait
from typing import Any

from labs.core import interpreters_api
from labs.core.pool_worker import call, warm_up
from labs.models._interpreter_queue import SubinterpreterModel, path_setup_code


class InterpretersPool(SubinterpreterModel):
    name = "interpreters-pool"
    description = "PEP 734 InterpreterPoolExecutor: one subinterpreter (own GIL) per worker thread"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return interpreters_api.pool_unavailable_reason()  # 3.12's backport has no executor

    def start(self) -> None:
        executor_class = interpreters_api.pool_executor_class()
        # The initializer is pickled by name, so it must be something every interpreter already has.
        self._pool = executor_class(self.workers, initializer=exec, initargs=(path_setup_code(),))
        wait([self._pool.submit(warm_up, self.warm_delay) for _ in range(self.workers)])

    def submit(self, func: str, *args: Any) -> Future:
        return self._pool.submit(call, func, *args)

    def shutdown(self, *, abandon: bool = False) -> None:
        # A running interpreter cannot be stopped from outside; abandoning leaves it to the process's exit.
        self._pool.shutdown(wait=not abandon, cancel_futures=True)


MODELS = (InterpretersPool,)
