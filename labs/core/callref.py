"""Worker code is referenced by name ("package.module:function") and imported inside the worker.

Threads, processes and subinterpreters all resolve the same string, so nothing has to be pickled by
value and nothing can silently depend on ``__main__`` (the interpreters backport's pool hangs on a
function defined in ``__main__`` instead of failing, so such functions are refused up front).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from labs.core.errors import UsageError

_cache: dict[str, Callable[..., Any]] = {}


def ref_of(func: Callable[..., Any] | str) -> str:
    """Return the "module:qualname" reference of *func*, refusing what a worker could not import."""
    if isinstance(func, str):
        module, sep, name = func.partition(":")
        if not sep or not module or not name:
            raise UsageError(f"task function reference {func!r} is not 'module:function'")
    else:
        module = getattr(func, "__module__", None)
        name = getattr(func, "__qualname__", None)
        if module is None or name is None or "<locals>" in name or "<lambda>" in name:
            raise UsageError(
                f"task function {func!r} is not importable by name: define it at module level in an "
                "importable module"
            )
    if module == "__main__":
        raise UsageError(
            f"task function {name!r} lives in __main__: workers (processes, subinterpreters) import task "
            "functions by name, so move it into an importable module"
        )
    return f"{module}:{name}"


def resolve(ref: str) -> Callable[..., Any]:
    """Import and return the object named by *ref* (cached per interpreter)."""
    try:
        return _cache[ref]
    except KeyError:
        pass
    module_name, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    _cache[ref] = obj
    return obj
