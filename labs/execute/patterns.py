"""The course's three ways for work to flow between workers, written once over the model interface.

n-workers  split the tasks into one contiguous chunk per worker and map
pipeline   producer -> the model's own queue -> N workers -> queue -> consumer
broadcast  the whole input goes to every worker; each computes its share by index
map        one call per task, as executor.map or client.map do: each task pays the model's dispatch,
           so sweeping the task size shows where that cost stops mattering (the break-even)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from labs.core.errors import RunError, UsageError
from labs.core.pool_worker import STOP
from labs.models.base import Empty, Model, outcome, remaining

NAMES = ("n-workers", "pipeline", "broadcast", "map")


def check_name(name: str) -> str:
    if name not in NAMES:
        raise UsageError(f"unknown pattern {name!r}; valid: {', '.join(NAMES)}")
    return name


def split(tasks: Sequence[Any], parts: int) -> list[tuple[Any, ...]]:
    """Contiguous chunks whose sizes differ by at most one; empty chunks are dropped."""
    size, extra = divmod(len(tasks), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        if end > start:
            chunks.append(tuple(tasks[start:end]))
        start = end
    return chunks


def n_workers(model: Model, task_func: str, tasks: Sequence[Any], deadline: float) -> list[Any]:
    futures = [
        model.submit("labs.core.pool_worker:run_chunk", task_func, chunk)
        for chunk in split(tasks, model.workers)
    ]
    return [result for future in futures for result in outcome(future, deadline)]


def broadcast(model: Model, task_func: str, tasks: Sequence[Any], deadline: float) -> list[Any]:
    workers = model.workers
    shared = model.share(tuple(tasks))
    futures = [
        model.submit("labs.core.pool_worker:run_share", task_func, shared, i, workers) for i in range(workers)
    ]
    results: list[Any] = [None] * len(tasks)
    for index, future in enumerate(futures):
        results[index::workers] = outcome(future, deadline)
    return results


def pipeline(model: Model, task_func: str, tasks: Sequence[Any], deadline: float) -> list[Any]:
    native = model.stream(task_func, tasks, deadline)
    if native is not None:
        return native
    inbound, outbound = model.channels()

    def produce() -> None:
        for position, task in enumerate(tasks):
            inbound.put((position, task))
        for _ in range(model.workers):
            inbound.put(STOP)

    # The producer runs beside the workers (the serial model runs its one worker inline).
    producer = threading.Thread(target=produce, name="labs-producer", daemon=True)
    producer.start()
    workers = [
        model.submit(
            "labs.core.pool_worker:pipeline_worker", task_func, inbound, outbound, remaining(deadline)
        )
        for _ in range(model.workers)
    ]
    results: list[Any] = [None] * len(tasks)
    received = 0
    while received < len(tasks):
        try:
            position, ok, value = outbound.get(timeout=min(0.05, remaining(deadline)))
        except Empty:
            for worker in workers:
                if worker.done():
                    outcome(worker, deadline)  # raises if the worker died
            continue
        if not ok:
            raise RunError(f"a task failed: {value.strip().splitlines()[-1]}")
        results[position] = value
        received += 1
    for worker in workers:
        outcome(worker, deadline)
    producer.join(remaining(deadline))
    return results


def task_map(model: Model, task_func: str, tasks: Sequence[Any], deadline: float) -> list[Any]:
    futures = [model.submit(task_func, task) for task in tasks]
    return [outcome(future, deadline) for future in futures]


_RUNNERS = {"n-workers": n_workers, "pipeline": pipeline, "broadcast": broadcast, "map": task_map}


def run(pattern: str, model: Model, task_func: str, tasks: Sequence[Any], timeout: float) -> list[Any]:
    """Run *tasks* through *model* with *pattern*; results in task order. Raises RunError / RunTimeout."""
    runner, deadline = _RUNNERS[check_name(pattern)], time.monotonic() + timeout
    with model.until(deadline):
        return runner(model, task_func, tasks, deadline)
