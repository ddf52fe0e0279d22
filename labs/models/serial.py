"""serial: every call runs in the calling thread, one after another. The reference for every bench.

Running in the caller's thread is what makes it the baseline, and also why a pattern cannot wait for it
with a timeout: the call *is* the wait. So a job's deadline is an interval timer (SIGALRM) that
interrupts the call when it overruns. Signals reach only the main thread: called from another thread,
a serial job cannot be stopped early and only gets the pattern's checks between calls.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from types import FrameType
from typing import Any

from labs.core.errors import RunTimeout
from labs.core.pool_worker import call
from labs.models.base import Channel, Model


class _Overrun(BaseException):
    """Raised by the timer inside an overrunning call; a BaseException, so that no task's own
    ``except Exception`` (nor the pipeline worker's) takes it for the task's failure."""


class Serial(Model):
    name = "serial"
    description = "one thread, one task after another: the baseline"
    queue_type = "queue.Queue"
    _armed = False  # True while a job runs under its deadline timer

    def start(self) -> None:
        pass

    def _overrun(self, signum: int, frame: FrameType | None) -> None:
        # A timer that fires as the job ends (it is disarmed first thing) must not raise into the clean-up.
        if self._armed:
            raise _Overrun

    def submit(self, func: str, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(call(func, *args))
        except Exception as exc:  # the caller sees it through the future, as with a pool
            future.set_exception(exc)
        return future

    @contextlib.contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGALRM, self._overrun)
        self._armed = True
        try:
            signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-6))
            yield
        except _Overrun:
            raise RunTimeout("no result before the run's timeout") from None
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def channels(self) -> tuple[Channel, Channel]:
        return queue.Queue(), queue.Queue()

    def shutdown(self, *, abandon: bool = False) -> None:
        pass


MODELS = (Serial,)
