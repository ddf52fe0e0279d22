"""The one small interface every execution model implements.

A model starts N workers (outside any timed region), runs calls on them by name, offers its own
queue type for the pipeline pattern, and shuts down. Patterns (``labs.execute.patterns``) are written once
on top of this; models know nothing about workloads.
"""

from __future__ import annotations

import contextlib
import queue
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future
from typing import Any, Protocol

from labs.core.errors import RunError, RunTimeout
from labs.core.plugin import Plugin


class Channel(Protocol):
    """A queue a pipeline can pass between the lab and the model's workers."""

    def put(self, item: Any) -> None: ...

    def get(self, timeout: float) -> Any:
        """Next item; raises queue.Empty after *timeout* seconds."""
        ...


Empty = queue.Empty


class Model(Plugin, ABC):
    """An execution model with a fixed number of workers: a plug-in like carriers and rungs (start,
    close, ``with``), whose ``close`` is a shutdown that waits for running calls."""

    name: str = ""
    description: str = ""
    #: True when a worker runs inside the lab's own process (a killed worker would kill the lab).
    in_process: bool = True
    #: The queue type its pipeline uses, for the record.
    queue_type: str = ""
    #: start() runs one sleeping call per worker, overlapping, so lazy pools create every worker before
    #: anything is timed. The start-up bench sets it to 0: it times creation plus one trivial call.
    warm_delay: float = 0.05

    def __init__(self, workers: int) -> None:
        self.workers = workers

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when this model can run on this runtime, else why not (one phrase)."""
        return None

    def facts(self) -> dict[str, Any]:
        """What this model records in metadata besides its name (e.g. start method, API source)."""
        return {}

    @abstractmethod
    def start(self) -> None:
        """Start all workers, so that no timed job pays for their creation."""

    @abstractmethod
    def submit(self, func: str, *args: Any) -> Future:
        """Call the function named *func* ("module:name") with *args* in a worker."""

    @abstractmethod
    def channels(self) -> tuple[Channel, Channel]:
        """An (inbound, outbound) pair of the model's own queue type, usable from its workers."""

    def share(self, value: Any) -> Any:
        """What the broadcast pattern passes to every worker in place of *value*: the value itself, or a
        handle to one copy the model placed on every worker beforehand (Dask's scatter)."""
        return value

    def stream(self, task_func: str, tasks: Sequence[Any], deadline: float) -> list[Any] | None:
        """The pipeline through the model's own primitives (Celery: the broker's queue is the inbound
        queue, the result backend the outbound one), or None to run it over ``channels()``."""
        return None

    @abstractmethod
    def shutdown(self, *, abandon: bool = False) -> None:
        """Stop the workers. With *abandon*, do not wait for running calls (kill what can be killed)."""

    def close(self) -> None:
        self.shutdown()

    def until(self, deadline: float) -> contextlib.AbstractContextManager[None]:
        """A job runs inside this block; *deadline* is its time.monotonic() limit.

        A pool model needs nothing here: the pattern waits for its futures with the deadline. A model
        that runs calls in the caller's own thread overrides it to stop a call that overruns.
        """
        return contextlib.nullcontext()

    def __enter__(self) -> Model:
        try:
            self.start()
        except BaseException:
            # An interrupt or a failure half-way through start() must not leave the started workers
            # running: ``with`` calls __exit__ only once __enter__ has returned. A half-started model may
            # lack what its shutdown expects; the first exception is the one to report.
            with contextlib.suppress(Exception):
                self.shutdown(abandon=True)
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.shutdown(abandon=exc is not None)


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise RunTimeout("no result before the run's timeout")
    return left


def outcome(future: Future, deadline: float) -> Any:
    """The result of *future* by *deadline*, or a RunError (RunTimeout) that says what went wrong."""
    try:
        return future.result(timeout=remaining(deadline))
    except Exception as exc:  # a KeyboardInterrupt is the user's, not the run's: it passes through
        # TimeoutError is also what a task raises when its own socket times out: only a future that
        # is still running means the run ran out of time.
        if not future.done():
            raise RunTimeout("no result before the run's timeout") from None
        if isinstance(exc, RunError):
            raise
        if isinstance(exc, BrokenExecutor):
            raise RunError(f"a worker died: {type(exc).__name__}: {_first_line(exc)}") from exc
        raise RunError(f"a task failed: {type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # Worker-side tracebacks arrive as text: the last line names the exception.
    return text.splitlines()[-1] if text else repr(exc)
