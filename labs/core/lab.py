"""Run a workload's tasks under a model and pattern, and verify them against the serial reference."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labs import models
from labs.core import patterns
from labs.core.callref import ref_of, resolve
from labs.core.errors import RunError, UsageError, VerificationError
from labs.models.base import Model
from labs.workloads import Workload

DEFAULT_TIMEOUT = 300.0  # seconds for one run; generous, since a hang must end but slow is fine
MAX_WORKERS = 1024


def check_workers(workers: int) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")
    return workers


def parse_int(what: str, text: str) -> int:
    """*text* as an integer, or a UsageError naming *what* and the bad value."""
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{what} must be an integer, got {text!r}") from None


def parse_positive_int(what: str, text: str) -> int:
    """*text* as a positive integer, or a UsageError naming *what* and the bad value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{what} must be a positive integer, got {text!r}")
    return value


@dataclass(frozen=True)
class Combination:
    workload: str
    model: str
    pattern: str
    workers: int

    def __str__(self) -> str:
        return f"{self.workload}/{self.model}/{self.pattern}/w{self.workers}"


def serial_reference(workload: Workload, tasks: Sequence[Any]) -> list[Any]:
    """What every model must produce for *tasks* (the verified part of each result).

    A CPU workload's reference is its results computed in this thread, checked against the workload's
    known answers. An I/O workload's reference is computed without the I/O (``reference(task)``: the
    page checksum, the file's bytes, the query's sum), so checking a 256-request job does not cost
    256 requests made one by one.
    """
    if workload.reference is not None:
        return [workload.reference(task) for task in tasks]
    func = resolve(workload.task)
    results = [func(task) for task in tasks]
    problem = workload.check(tasks, results)
    if problem:
        raise VerificationError(f"{workload.name}: the serial reference fails its own check: {problem}")
    return results


def task_function(workload: Workload, model: str) -> str:
    """The task function a model runs: the coroutine for asyncio when the workload has one."""
    return workload.async_task if model == "asyncio" and workload.async_task else workload.task


def verify(
    combination: Combination,
    results: Sequence[Any],
    expected: Sequence[Any],
    verified: Callable[[Any], Any] = lambda result: result,
) -> None:
    """Raise VerificationError naming *combination* unless the *verified* part of every result equals
    the serial reference."""
    if len(results) != len(expected):
        raise VerificationError(
            f"{combination}: {len(results)} results, serial reference has {len(expected)}"
        )
    for index, (result, want) in enumerate(zip(results, expected, strict=True)):
        got = verified(result)
        if got != want:
            raise VerificationError(
                f"{combination}: result {index} is {got!r}, the serial reference gave {want!r}"
            )


def execute(
    model: Model,
    pattern: str,
    task_func: str,
    tasks: Sequence[Any],
    combination: Combination,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Any]:
    """One job; any failure is re-raised as the same error type with the combination named."""
    try:
        return patterns.run(pattern, model, task_func, tasks, timeout)
    except RunError as exc:
        raise type(exc)(f"{combination}: {exc}") from exc


def map_tasks(
    func: Callable[[Any], Any] | str,
    tasks: Sequence[Any],
    *,
    model: str = "threads",
    pattern: str = "n-workers",
    workers: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Any]:
    """Run ``func(task)`` for every task under *model* and *pattern*; results in task order.

    *func* must be importable by name (a function defined in ``__main__`` is refused up front).
    """
    task_func = ref_of(func)
    model_class = models.available(model)
    patterns.check_name(pattern)
    check_workers(workers)
    combination = Combination(task_func, model, pattern, workers)
    with model_class(workers) as running:
        return execute(running, pattern, task_func, tasks, combination, timeout)


def timed(job: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = job()
    return time.perf_counter() - start, result
