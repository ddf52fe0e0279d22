"""Workload registry. A workload is one module here; its name is its file name.

A workload module declares:
    KIND         "cpu" or "io"
    DESCRIPTION  one line
    ORIGIN       where the kernel comes from (with attribution when reused)
    SIZES        task counts for the "smoke", "quick" and "default" settings
    make_tasks(size) -> list of tasks (shareable values: int/float/str/bytes/bool/None/tuples)
    run(task) -> result (a shareable value); an "io" workload may make it ``async def``
    check(tasks, results) -> None or a description of what is wrong (a known-answer check)
It knows nothing about models or patterns.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labs.errors import UsageError

# Registry: adding a workload is one module plus one name here.
NAMES = (
    "nbody",
    "fib",
    "wordcount",
    "parsing",
    "hashing",
    "contention",
    "fannkuch",
    "spectral_norm",
)


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str
    description: str
    origin: str
    sizes: dict[str, int]
    task: str  # "labs.workloads.<name>:run", resolved inside each worker
    is_async: bool
    make_tasks: Callable[[int], list[Any]]
    check: Callable[[Sequence[Any], Sequence[Any]], str | None]


def _load(name: str) -> Workload:
    module = importlib.import_module(f"labs.workloads.{name}")
    return Workload(
        name=name,
        kind=module.KIND,
        description=module.DESCRIPTION,
        origin=module.ORIGIN,
        sizes=dict(module.SIZES),
        task=f"{module.__name__}:run",
        is_async=inspect.iscoroutinefunction(module.run),
        make_tasks=module.make_tasks,
        check=module.check,
    )


def get(name: str) -> Workload:
    """The workload called *name*, or a UsageError listing the valid names."""
    if name not in NAMES:
        raise UsageError(f"unknown workload {name!r}; valid: {', '.join(NAMES)}")
    return _load(name)


def all_workloads() -> list[Workload]:
    return [_load(name) for name in NAMES]
