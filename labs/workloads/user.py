"""A user's own workload, wherever the lab takes ``-w``: a function by import path, a workload file, or
a workload an installed package registers.

- ``-w pkg.module:function --tasks pkg.module:make_tasks [--check pkg.module:check]``: the function
  runs one task; ``make_tasks(size)`` returns the task list; ``check(tasks, results)`` returns None or
  what is wrong. Without a check, the serial results are the reference every model must equal.
- ``-w path/to/workload.py``: a file following the workload module protocol (labs/workloads/__init__.py):
  ``make_tasks(size)`` and ``run(task)``, and optionally KIND, DESCRIPTION, SIZES, ``check`` and
  ``run_async``. Its folder is put on sys.path, so workers import it by name like any module.
- ``-w NAME``: a module that an installed package registers under the ``gil_lab.workloads`` entry-point
  group (``NAME = "pkg.module"``), following the same protocol.

Workers import the task by name, so a function defined in ``__main__`` is refused. What is recorded is
the import path and a hash of the module's source, never a machine path.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import sys
import types
from pathlib import Path
from typing import Any

from labs.core.callref import ref_of, resolve
from labs.core.errors import UsageError
from labs.workloads import Workload

ENTRY_POINTS = "gil_lab.workloads"
DEFAULT_SIZES = {"quick": 4, "default": 16, "rigorous": 64}  # tasks a job, by the run's mode


def is_user_spec(spec: str) -> bool:
    """Whether ``-w`` names a user's workload rather than a built-in one."""
    return ":" in spec or spec.endswith(".py") or spec in _registered()


def resolve_workload(spec: str, tasks: str | None = None, check: str | None = None) -> Workload:
    """The user's workload that *spec* names (UsageError, in one line, for anything unusable)."""
    if spec.endswith(".py"):
        module = _import_file(Path(spec))
    elif ":" in spec:
        return _function_workload(spec, tasks, check)
    else:
        module = _import(_registered()[spec], f"the workload {spec!r} registered under {ENTRY_POINTS}")
    if tasks or check:
        raise UsageError("--tasks and --check go with -w pkg.module:function; a workload module has its own")
    return _module_workload(module)


def source_hash(module: types.ModuleType) -> str:
    """sha256 of the module's source (a short prefix): which code was measured, without its path."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return "unknown"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _registered() -> dict[str, str]:
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINTS)}


def _import(name: str, what: str) -> types.ModuleType:
    if name == "__main__" or name.startswith("__main__."):
        raise UsageError(f"{what} lives in __main__: workers import tasks by name; use an importable module")
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any import failure is the user's module's, said in one line
        raise UsageError(f"cannot import {what}: {type(exc).__name__}: {str(exc)[:200]}") from None


def _import_file(path: Path) -> types.ModuleType:
    if not path.is_file():
        raise UsageError(f"no workload file {str(path)!r}")
    name = path.stem
    if not name.isidentifier():
        raise UsageError(f"workload file name {path.name!r} is not a module name (letters, digits, _)")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # before any worker starts: processes and interpreters copy sys.path
    module = _import(name, f"the workload file {path.name!r}")
    if Path(getattr(module, "__file__", "") or "").resolve() != path.resolve():
        raise UsageError(f"the workload file {path.name!r} is shadowed by the module {name!r} of that name")
    return module


def _function(ref: str, what: str) -> Any:
    module, _, name = ref.partition(":")
    ref_of(ref)  # 'module:function' with a module other than __main__
    _import(module, f"{what} {ref!r}")
    try:
        func = resolve(ref)
    except AttributeError:
        raise UsageError(f"{what} {ref!r}: module {module!r} has no {name!r}") from None
    if not callable(func):
        raise UsageError(f"{what} {ref!r} is not callable")
    return func


def _function_workload(spec: str, tasks: str | None, check: str | None) -> Workload:
    if not tasks:
        raise UsageError(f"-w {spec} needs --tasks pkg.module:make_tasks (called with --size)")
    _function(spec, "the task function")
    module = types.SimpleNamespace(
        make_tasks=_function(tasks, "--tasks"),
        check=_function(check, "--check") if check else None,
    )
    home = sys.modules[spec.partition(":")[0]]
    return Workload(
        name=spec,
        kind="cpu",
        description=f"{spec}, tasks from {tasks}",
        origin=f"user code (source sha256 {source_hash(home)})",
        sizes=dict(DEFAULT_SIZES),
        task=spec,
        async_task=None,
        module=_Protocol(module.make_tasks, module.check),
    )


class _Protocol:
    """A function workload seen through the workload module protocol."""

    def __init__(self, make_tasks: Any, check: Any) -> None:
        self.make_tasks, self._check = make_tasks, check
        self.__name__ = "user"

    def check(self, tasks: Any, results: Any) -> str | None:
        return self._check(tasks, results) if self._check else None


# Workload files written before SIZES were keyed by the run's mode name their sizes the old way.
_OLD_SIZE_NAMES = {"smoke": "quick", "quick": "default", "default": "rigorous"}


def _by_mode(sizes: dict[str, int]) -> dict[str, int]:
    """*sizes* keyed by mode (quick, default, rigorous), from either naming."""
    return {_OLD_SIZE_NAMES.get(k, k): v for k, v in sizes.items()} if "smoke" in sizes else sizes


def _module_workload(module: types.ModuleType) -> Workload:
    for name in ("make_tasks", "run"):
        if not callable(getattr(module, name, None)):
            raise UsageError(f"the workload module {module.__name__!r} has no {name}() (see the README)")
    kind = getattr(module, "KIND", "cpu")
    if kind not in ("cpu", "io"):
        raise UsageError(f"the workload module {module.__name__!r} has KIND {kind!r}; valid: cpu, io")
    return Workload(
        name=module.__name__,
        kind=kind,
        description=getattr(module, "DESCRIPTION", module.__doc__ or module.__name__).strip().splitlines()[0],
        origin=f"user code (source sha256 {source_hash(module)})",
        sizes={**DEFAULT_SIZES, **_by_mode(dict(getattr(module, "SIZES", {})))},
        task=f"{module.__name__}:run",
        async_task=f"{module.__name__}:run_async" if hasattr(module, "run_async") else None,
        module=module,
    )


def workload(spec: str, tasks: str | None = None, check: str | None = None) -> Workload:
    """The workload ``-w`` names: a built-in one by name, else the user's (see the module's doc)."""
    from labs import workloads

    if spec in workloads.NAMES and not (tasks or check):
        return workloads.get(spec)
    if not is_user_spec(spec):
        workloads.get(spec)  # the built-in names, listed in its error
    return resolve_workload(spec, tasks, check)


SHAREABLE = (int, float, str, bytes, bool, type(None))


def check_sendable(model: str, tasks: list[Any]) -> None:
    """UsageError unless *model* can send each task to its workers: subinterpreters take shareable
    values (PEP 734: int, float, str, bytes, bool, None and tuples of them), processes what pickles."""
    import pickle

    for task in tasks:
        if model.startswith("interpreters") and not _shareable(task):
            raise UsageError(
                f"a task of type {type(task).__name__} cannot be sent to a subinterpreter ({model}): "
                "tasks must be int, float, str, bytes, bool, None or tuples of them"
            )
        if model.startswith(("processes", "dask", "celery")):
            try:
                pickle.dumps(task)
            except Exception as exc:
                raise UsageError(
                    f"a task of type {type(task).__name__} cannot be sent to a worker process ({model}): "
                    f"it does not pickle ({type(exc).__name__})"
                ) from None


def _shareable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_shareable(item) for item in value)
    return isinstance(value, SHAREABLE)
