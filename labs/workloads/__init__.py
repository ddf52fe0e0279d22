"""Workload registry. A workload is one module here; its name is its file name (or one of its variants).

A workload module declares:
    KIND         "cpu" or "io"
    DESCRIPTION  one line
    ORIGIN       where the kernel comes from (with attribution when reused)
    SIZES        task counts a job by the run's mode: {"quick": ..., "default": ..., "rigorous": ...}
    make_tasks(size[, env][, variant value]) -> tasks (shareable values: int/float/str/bytes/bool/None/tuples)
    run(task) -> result (a shareable value), blocking
    check(tasks, results) -> None or a description of what is wrong (a known-answer check); a workload
                 with ``reference`` leaves it out: its reference is the known answer
and optionally:
    run_async(task)      the same as a coroutine, used by the asyncio model
    environment()        a context manager yielding what the tasks need (a server URL, a folder)
    reference(task)      the known answer of one task, computed without the I/O, so an I/O workload's
                         reference does not cost its I/O
    verified(result)     the part of a result that must equal the reference (not a measured latency)
    latency(result)      the seconds one task waited, when the workload measures it
    VARIANTS             {name: value}: declared variants, each a workload of its own
It knows nothing about models or patterns.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from labs.core.errors import UsageError

# Registry: adding a workload is one module plus one name here.
MODULES = (
    "nbody",
    "fib",
    "wordcount",
    "parsing",
    "hashing",
    "contention",
    "fannkuch",
    "spectral_norm",
    "download",
    "files",
    "sqlite",
    "subprocesses",
    "mixed",
    "grain",
)


@functools.cache
def _names() -> dict[str, str]:
    """Workload name -> its module: the module's own name, or each of the VARIANTS it declares (the one
    list of variants; the modules are small and import nothing heavy)."""
    found = {}
    for module_name in MODULES:
        module = importlib.import_module(f"labs.workloads.{module_name}")
        found.update(dict.fromkeys(getattr(module, "VARIANTS", (module_name,)), module_name))
    return found


def __getattr__(name: str) -> Any:
    if name == "NAMES":  # every workload name, in registry order
        return tuple(_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _identity(result: Any) -> Any:
    return result


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str
    description: str
    origin: str
    sizes: dict[str, int]
    task: str  # "labs.workloads.<module>:run", resolved inside each worker
    async_task: str | None
    module: Any

    def make_tasks(self, size: int, env: str | None = None) -> list[Any]:
        args: list[Any] = [size]
        if hasattr(self.module, "environment"):
            args.append(env)
        if hasattr(self.module, "VARIANTS"):
            args.append(self.module.VARIANTS[self.name])
        return self.module.make_tasks(*args)

    def variant(self) -> dict[str, str]:
        """A declared variant's family and value, by their schema names (labs.store.schema: variant_of,
        variant; the report orders variants by value)."""
        if not hasattr(self.module, "VARIANTS"):
            return {}
        family = self.module.__name__.rsplit(".", 1)[1]
        return {"variant_of": family, "variant": str(self.module.VARIANTS[self.name])}

    @contextlib.contextmanager
    def environment(self) -> Iterator[str | None]:
        """What the tasks need for one run (nothing for CPU workloads)."""
        if not hasattr(self.module, "environment"):
            yield None
            return
        with self.module.environment() as env:
            yield env

    def check(self, tasks: Sequence[Any], results: Sequence[Any]) -> str | None:
        """The known-answer check of computed results. A workload with ``reference`` needs none: its
        reference *is* the known answer, and every model's results are verified against it."""
        return self.module.check(tasks, results) if hasattr(self.module, "check") else None

    @property
    def reference(self) -> Callable[[Any], Any] | None:
        return getattr(self.module, "reference", None) if self.kind == "io" else None

    @property
    def verified(self) -> Callable[[Any], Any]:
        return getattr(self.module, "verified", _identity)

    @property
    def latency(self) -> Callable[[Any], float] | None:
        return getattr(self.module, "latency", None)


def _load(name: str) -> Workload:
    module = importlib.import_module(f"labs.workloads.{_names()[name]}")
    return Workload(
        name=name,
        kind=module.KIND,
        description=module.DESCRIPTION,
        origin=module.ORIGIN,
        sizes=dict(module.SIZES),
        task=f"{module.__name__}:run",
        async_task=f"{module.__name__}:run_async" if hasattr(module, "run_async") else None,
        module=module,
    )


def get(name: str) -> Workload:
    """The workload called *name*, or a UsageError listing the valid names."""
    if name not in _names():
        raise UsageError(f"unknown workload {name!r}; valid: {', '.join(_names())}")
    return _load(name)


def all_workloads(kind: str | None = None) -> list[Workload]:
    return [w for w in map(_load, _names()) if kind is None or w.kind == kind]
