"""Run a workload's tasks under a model and pattern, and verify them against the serial reference."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from labs import models
from labs.core import limits
from labs.core.callref import ref_of, resolve
from labs.core.errors import RunError, UsageError, VerificationError
from labs.execute import patterns
from labs.models.base import Model
from labs.workloads import Workload

# What one task costs in memory besides its own value: its result (unknown before it runs, and small for
# every workload of the lab: a number, a digest, a short tuple), and the copies a run makes of both (the
# task list, chunks, pickles in the workers, the reference, the serial and the model's results).
RESULT_ALLOWANCE = 512
COPIES = 8
_SIZE_SAMPLE = 16


def _deep_size(value: Any, seen: set[int]) -> int:
    """Bytes held by *value* and what it contains, each object counted once (a URL shared by every task
    is paid once)."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, tuple | list):
        size += sum(_deep_size(item, seen) for item in value)
    return size


def max_size(workload: Workload, memory: int) -> int:
    """The most tasks of *workload* a run can hold in half of *memory* bytes.

    One task's cost is measured on a sample of the workload's own tasks (made with a placeholder where it
    needs an environment: a URL or folder is one shared string), plus RESULT_ALLOWANCE, times COPIES.
    """
    sample = workload.make_tasks(_SIZE_SAMPLE, "")
    seen: set[int] = set()
    per_task = (sum(_deep_size(task, seen) for task in sample) // len(sample) + 8 + RESULT_ALLOWANCE) * COPIES
    return max(memory // 2 // per_task, 1)


def check_size(workload: Workload, size: int, memory: int | None = None) -> int:
    """*size*, or a UsageError naming the limit when that many tasks would not fit in memory
    (*memory*: bytes available, default what is available now)."""
    memory = limits.available_memory() if memory is None else memory
    limit = max_size(workload, memory)
    if size > limit:
        raise UsageError(
            f"size {size} is too large for {workload.name}: at most {limit} tasks fit in half of the "
            f"{memory / (1 << 30):.1f} GiB of memory available"
        )
    return size


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
    try:
        results = [func(task) for task in tasks]
    except Exception as exc:  # the workload's own code failed: a failed run, said in one line
        raise RunError(
            f"{workload.name}: a task raised in the serial run: {type(exc).__name__}: {exc}"
        ) from None
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
    timeout: float = limits.DEFAULT_TIMEOUT,
) -> list[Any]:
    """One job; any failure is re-raised as the same error type with the combination named."""
    try:
        return patterns.run(pattern, model, task_func, tasks, timeout)
    except RunError as exc:
        raise type(exc)(f"{combination}: {exc}") from exc


@contextlib.contextmanager
def started(model_class: type[Model], combination: Combination) -> Iterator[Model]:
    """The model with its workers started, for a ``with`` block; a start that fails (a cluster that
    does not answer, a worker that does not start) names the combination, like a failed job."""
    model = model_class(combination.workers)
    try:
        model.__enter__()
    except RunError as exc:
        raise type(exc)(f"{combination}: {exc}") from exc
    try:
        yield model
    except BaseException as exc:
        with contextlib.suppress(Exception):  # a failing clean-up must not hide why the run failed
            model.__exit__(type(exc), exc, exc.__traceback__)
        raise
    model.__exit__(None, None, None)


def map_tasks(
    func: Callable[[Any], Any] | str,
    tasks: Sequence[Any],
    *,
    model: str = "threads",
    pattern: str = "n-workers",
    workers: int = 2,
    timeout: float = limits.DEFAULT_TIMEOUT,
) -> list[Any]:
    """Run ``func(task)`` for every task under *model* and *pattern*; results in task order.

    *func* must be importable by name (a function defined in ``__main__`` is refused up front).
    """
    task_func = ref_of(func)
    model_class = models.available(model)
    patterns.check_name(pattern)
    limits.check_workers(workers)
    limits.check_timeout(timeout)
    combination = Combination(task_func, model, pattern, workers)
    with model_class(workers) as running:
        return execute(running, pattern, task_func, tasks, combination, timeout)


def timed(job: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = job()
    return time.perf_counter() - start, result
